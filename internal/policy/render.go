package policy

import (
	"bytes"
	"html/template"
	"strings"
)

// Markdown renders the document as CommonMark with pipe tables.
func (d Document) Markdown() string {
	var b strings.Builder
	b.WriteString("# " + d.Title + "\n\n")
	for _, s := range d.Subtitle {
		b.WriteString(s + "  \n")
	}
	b.WriteString("\n")
	for _, p := range d.Intro {
		b.WriteString(p + "\n\n")
	}
	for _, s := range d.Sections {
		b.WriteString("## " + s.Heading + "\n\n")
		for _, bl := range s.Blocks {
			writeMDBlock(&b, bl)
		}
	}
	for _, c := range d.Closing {
		b.WriteString(c + "  \n")
	}
	return b.String()
}

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", "<br>")
}

func writeMDBlock(b *strings.Builder, bl Block) {
	if bl.Title != "" {
		b.WriteString("**" + bl.Title + "**\n\n")
	}
	switch bl.Kind {
	case Para, Note:
		b.WriteString(bl.Text + "\n\n")
	case List:
		for _, it := range bl.Items {
			b.WriteString("- " + it + "\n")
		}
		b.WriteString("\n")
	case Link:
		b.WriteString("[" + bl.Text + "](" + bl.Href + ")\n\n")
	case Table:
		row := func(cells []string) {
			b.WriteString("|")
			for _, c := range cells {
				b.WriteString(" " + mdCell(c) + " |")
			}
			b.WriteString("\n")
		}
		row(bl.Header)
		b.WriteString("|" + strings.Repeat(" --- |", len(bl.Header)) + "\n")
		for _, r := range bl.Rows {
			row(r)
		}
		b.WriteString("\n")
	}
}

var pageTmpl = template.Must(template.New("policy").Funcs(template.FuncMap{
	"lines": func(s string) []string { return strings.Split(s, "\n") },
}).Parse(`<!DOCTYPE html>
<html lang="{{if .Lang}}{{.Lang}}{{else}}ko{{end}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Doc}}{{.Doc.Title}}{{else}}영상정보처리기기 운영·관리 방침 — 지난 버전{{end}}</title>
<style>
body{font-family:"Nanum Gothic","Noto Sans KR",sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;line-height:1.6;color:#111}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}th,td{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eee}.sub{color:#444}.note{font-size:.9em}.closing{text-align:right;margin-top:2rem}nav{margin-bottom:1rem}
.diff del{background:#fdd}.diff ins{background:#dfd}.diff pre{white-space:pre-wrap}
</style>
</head>
<body>
{{with .Nav}}<nav>{{range .}}<a href="{{.Href}}">{{.Text}}</a> {{end}}</nav>{{end}}
{{with .Banner}}<p class="note"><strong>{{.}}</strong></p>{{end}}
{{with .Doc}}
<h1>{{.Title}}</h1>
<p class="sub">{{range $i, $s := .Subtitle}}{{if $i}}<br>{{end}}{{$s}}{{end}}</p>
{{range .Intro}}<p>{{.}}</p>
{{end}}
{{range .Sections}}<section>
<h2>{{.Heading}}</h2>
{{range .Blocks}}{{if .Title}}<h3>{{.Title}}</h3>{{end}}
{{if eq .Kind "para"}}<p>{{.Text}}</p>
{{else if eq .Kind "note"}}<p class="note">{{.Text}}</p>
{{else if eq .Kind "list"}}<ul>{{range .Items}}<li>{{.}}</li>{{end}}</ul>
{{else if eq .Kind "link"}}<p><a href="{{.Href}}">{{.Text}}</a></p>
{{else if eq .Kind "table"}}<table><thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Rows}}<tr>{{range .}}<td>{{range $i, $l := lines .}}{{if $i}}<br>{{end}}{{$l}}{{end}}</td>{{end}}</tr>
{{end}}</tbody></table>
{{end}}{{end}}</section>
{{end}}
<p class="closing">{{range $i, $s := .Closing}}{{if $i}}<br>{{end}}{{$s}}{{end}}</p>
{{end}}
{{with .Versions}}<h1>영상정보처리기기 운영·관리 방침 — 지난 버전</h1>
<table><thead><tr><th>버전</th><th>공고일자</th><th>시행일자</th><th>변경 내용</th></tr></thead><tbody>
{{range .}}<tr><td><a href="/policy/versions/{{.Number}}">{{.Number}}</a></td><td>{{.Announced}}</td><td>{{.Effective}}</td><td>{{.Summary}}{{if .Adopted}} (gwanje 도입 전 시행본){{end}}</td></tr>
{{end}}</tbody></table>{{end}}
{{with .Diff}}<section class="diff"><h2>이전 버전과 달라진 내용</h2><pre>{{range .}}{{if eq .Op "-"}}<del>- {{.Text}}</del>
{{else if eq .Op "+"}}<ins>+ {{.Text}}</ins>
{{end}}{{end}}</pre></section>{{end}}
</body>
</html>
`))

type navLink struct{ Text, Href string }

type page struct {
	Lang     string // "ko" when empty
	Doc      *Document
	Nav      []navLink
	Banner   string
	Versions []VersionInfo
	Diff     []DiffLine
}

func renderPage(p page) ([]byte, error) {
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// HTML renders the document as a complete, escaped HTML page.
func (d Document) HTML() ([]byte, error) { return renderPage(page{Doc: &d}) }
