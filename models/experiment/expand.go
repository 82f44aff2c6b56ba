package experiment

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Setting is one value a sweep gives a run's key.
type Setting struct {
	Key   string `json:"key"`   // the run's key, as configs spell it (noise, hidden, …)
	Value string `json:"value"` // as the name shows it
}

// axis is one key of a grid and its values.
type axis struct {
	key    string
	field  int         // index of the key's field in Run
	values []yaml.Node // each value's node, decoded into the run when expanded
	line   int
}

// readGrid checks a config's grid: a mapping of run keys to lists of values, each value
// one the key can take.
func readGrid(file string, node *yaml.Node, lines map[string]int) ([]axis, error) {
	if node == nil || node.Kind == 0 {
		return nil, nil
	}
	bad := func(n *yaml.Node, key, problem string) error {
		return &ConfigError{File: file, Line: n.Line, Key: key, Problem: problem}
	}
	if node.Kind != yaml.MappingNode {
		return nil, bad(node, "grid", "want a mapping of run keys to lists of values")
	}
	fields := map[string]int{}
	rt := reflect.TypeOf(Run{})
	for i := range rt.NumField() {
		if tag := rt.Field(i).Tag.Get("yaml"); tag != "" && tag != "-" && tag != "name" {
			fields[tag] = i
		}
	}
	var axes []axis
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, list := node.Content[i], node.Content[i+1]
		key := "grid." + k.Value
		f, ok := fields[k.Value]
		if !ok {
			return nil, bad(k, key, "not a key a run has (name cannot be swept)")
		}
		if list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
			return nil, bad(list, key, "want a list of the values to sweep")
		}
		lines[key] = k.Line
		a := axis{key: k.Value, field: f, line: k.Line}
		for j, v := range list.Content {
			probe := reflect.New(rt.Field(f).Type).Elem()
			if err := decode(file, fmt.Sprintf("%s[%d]", key, j), v, probe, lines); err != nil {
				return nil, err
			}
			a.values = append(a.values, *v)
		}
		axes = append(axes, a)
	}
	return axes, nil
}

// expand returns runs once for every combination of the grid's values and every seed:
// each gets a name that says its settings (dae_noise-gaussian0.2_hidden-32_seed-2), its
// Config (the name without the seed) and its Settings.
func expand(file string, runs []Run, axes []axis, seeds []uint64, lines map[string]int) ([]Run, error) {
	if len(axes) == 0 && len(seeds) == 0 {
		return runs, nil
	}
	out := make([]Run, len(runs))
	for i, r := range runs {
		r.Base = r.Name
		out[i] = r
	}
	for _, a := range axes {
		var next []Run
		for _, r := range out {
			for j := range a.values {
				c := r
				cv := reflect.ValueOf(&c).Elem().Field(a.field)
				if err := decode(file, fmt.Sprintf("grid.%s[%d]", a.key, j), &a.values[j], cv, lines); err != nil {
					return nil, err
				}
				shown := settingText(cv)
				c.Name = r.Name + "_" + a.key + "-" + fileSafe(shown)
				c.Settings = append(append([]Setting(nil), r.Settings...), Setting{Key: a.key, Value: shown})
				next = append(next, c)
			}
		}
		out = next
	}
	for i := range out {
		out[i].Config = out[i].Name
	}
	if len(seeds) == 0 {
		return out, nil
	}
	var seeded []Run
	for _, r := range out {
		for _, s := range seeds {
			c := r
			c.Seed = s
			if len(seeds) > 1 {
				c.Name = r.Name + "_seed-" + strconv.FormatUint(s, 10)
			}
			seeded = append(seeded, c)
		}
	}
	return seeded, nil
}

// settingText shows a swept value: 32, 512x128, gaussian:0.2.
func settingText(v reflect.Value) string {
	if v.Kind() == reflect.Slice {
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(v.Index(i).Interface())
		}
		return strings.Join(parts, "x")
	}
	return fmt.Sprint(v.Interface())
}

// fileSafe keeps a value usable in a file name on every system.
func fileSafe(s string) string {
	return strings.NewReplacer(":", "", "/", "-", `\`, "-", " ", "", "*", "", "?", "", `"`, "", "<", "", ">", "", "|", "").Replace(s)
}

// UseSeeds runs every configuration once for each of the seeds 1 to n, as a config's
// "seeds: [1, …, n]" does; a config that names its seeds keeps them.
func (cfg *Config) UseSeeds(n int) error {
	if len(cfg.Seeds) > 0 {
		return fmt.Errorf("experiment: the config names its seeds already (seeds: %v)", cfg.Seeds)
	}
	if n < 1 {
		return fmt.Errorf("experiment: %d seeds: want 1 or more", n)
	}
	for s := range n {
		cfg.Seeds = append(cfg.Seeds, uint64(s+1))
	}
	var runs []Run
	for _, r := range cfg.Runs {
		if r.Config == "" {
			r.Config, r.Base = r.Name, r.Name
		}
		for _, s := range cfg.Seeds {
			c := r
			c.Seed = s
			if n > 1 {
				c.Name = r.Name + "_seed-" + strconv.FormatUint(s, 10)
			}
			runs = append(runs, c)
		}
	}
	cfg.Runs = runs
	return nil
}

// Expansion lists the runs a config makes, for --print-config: one line each, its settings.
func (cfg *Config) Expansion() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %d runs:\n", len(cfg.Runs))
	for _, r := range cfg.Runs {
		fmt.Fprintf(&b, "#   %s  (seed %d", r.Name, r.Seed)
		for _, s := range r.Settings {
			fmt.Fprintf(&b, ", %s %s", s.Key, s.Value)
		}
		b.WriteString(")\n")
	}
	return b.String()
}
