package experiment

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"time"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/models"
)

// reportTemplate is the report page: everything inline, images as data URIs, so the one
// file can be mailed or opened anywhere.
const reportTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>aelab experiment: {{.Name}}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 78rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: 0.85rem; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.5rem; text-align: right; white-space: nowrap; }
th:first-child, td:first-child, td:nth-child(2), td:nth-child(3), td:nth-child(5), td:nth-child(7) { text-align: left; }
th { background: #f4f4f4; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9rem; color: #555; margin-top: 0.3rem; }
.meta { color: #666; font-size: 0.9rem; }
pre { background: #f7f7f7; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem; }
</style>
</head>
<body>
<h1>aelab experiment: {{.Name}}</h1>
<p>{{.Description}}</p>
<p class="meta">Data: {{.Data}} · {{.Train}} training images · {{.Test}} test images · written {{.When}} by aelab {{.Version}}</p>
<h2>Results</h2>
<table>
<thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</tbody>
</table>
<h2>Reading</h2>
{{range .Reading}}<p>{{.}}</p>
{{end}}
{{range .Sections}}<h2>{{.Title}}</h2>
<p>{{.Text}}</p>
<table>
<thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</tbody>
</table>
{{end}}
<h2>Figures</h2>
{{range .Figures}}<figure>
<img src="{{.Src}}" alt="{{.Title}}">
<figcaption><b>{{.Title}}.</b> {{.Caption}}</figcaption>
</figure>
{{end}}
<h2>Configuration</h2>
<pre>{{.Config}}</pre>
</body>
</html>
`

type htmlFigure struct {
	Title, Caption string
	Src            template.URL
}

// reportHTML renders the experiment's page.
func reportHTML(cfg *Config, configYAML []byte, set *datasets.Set, out *Outputs) ([]byte, error) {
	tmpl, err := template.New("report").Parse(reportTemplate)
	if err != nil {
		return nil, fmt.Errorf("experiment: report template: %w", err)
	}
	var rows [][]string
	for _, r := range out.Rows {
		rows = append(rows, r.cells())
	}
	var figs []htmlFigure
	for _, f := range out.Figures {
		figs = append(figs, htmlFigure{Title: f.Title, Caption: f.Caption,
			Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(f.PNG))})
	}
	data := map[string]any{
		"Name": cfg.Name, "Description": cfg.Description, "Data": set.Name, "Train": set.Train.Len(), "Test": set.Test.Len(),
		"When": time.Now().UTC().Format("2006-01-02 15:04 UTC"), "Version": models.Version,
		"Header": header(), "Rows": rows, "Reading": out.Reading, "Sections": out.Sections, "Figures": figs, "Config": string(configYAML),
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("experiment: report: %w", err)
	}
	return buf.Bytes(), nil
}
