// Package experiment runs aelab's main job: train every configuration of a list (a YAML
// config or an embedded preset), evaluate each on the same test set, make the
// interpolations and walks the config asks for, and write the comparison — metrics as
// JSON, CSV and Markdown, figures as PNG, and one self-contained HTML report. [Execute] does
// all of it, with one Progress for the whole:
//
//	cfg, text, err := experiment.Preset("quick")
//	out, err := experiment.Execute(ctx, cfg, text, set, experiment.Options{Out: "runs/quick", Backend: backend})
//
// A run is a spec and a procedure (train, pretrain, or pretrain then fine-tune). Runs are
// cut into stages — train, pretrain, fine-tune — and each stage's checkpoint records the
// hash of its configuration (and of the stage before it), so a stage that finished once is
// reused: an interrupted experiment resumes where it stopped, and a pretrained stack shared
// by two runs is trained once.
//
// Config errors name the file, the line and the key.
package experiment
