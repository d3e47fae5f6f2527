package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"strings"

	mail "github.com/wneessen/go-mail"

	"github.com/sitemetrics/sitemetrics/models"
)

// sendEmail sends one message with a text and an HTML part over SMTP: STARTTLS required
// (smtp://, unless ?tls= says otherwise) or TLS from the start (smtps://), and the URL's
// user and password for AUTH. The Message-ID is the event id, so a mail re-sent after a
// crash is recognisably the same message.
func (n *Notifier) sendEmail(ctx context.Context, c models.Channel, m message) error {
	t, err := models.ParseSMTPURL(c.URL)
	if err != nil {
		return permanent(errors.New("the channel's SMTP URL is not valid"))
	}
	msg := mail.NewMsg()
	if err := msg.From(t.From); err != nil {
		return permanent(fmt.Errorf("from address: %v", err))
	}
	if err := msg.To(t.To...); err != nil {
		return permanent(fmt.Errorf("to address: %v", err))
	}
	msg.Subject(m.Title)
	msg.SetMessageIDWithValue(m.ID + "@sitemetrics")
	msg.SetGenHeader("X-Sitemetrics-Event", m.ID)
	msg.SetDateWithValue(m.SentAt)
	msg.SetBodyString(mail.TypeTextPlain, emailText(m))
	html, err := emailHTML(m)
	if err != nil {
		return permanent(err)
	}
	msg.AddAlternativeString(mail.TypeTextHTML, html)

	opts := []mail.Option{mail.WithPort(t.Port), mail.WithTimeout(sendTimeout)}
	switch {
	case t.ImplicitTLS:
		opts = append(opts, mail.WithSSL())
	case t.TLS == "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case t.TLS == "opportunistic":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if t.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(t.Username), mail.WithPassword(t.Password))
	}
	if n.opt.SMTPTLS != nil {
		cfg := n.opt.SMTPTLS.Clone()
		cfg.ServerName = t.Host
		opts = append(opts, mail.WithTLSConfig(cfg))
	}
	client, err := mail.NewClient(t.Host, opts...)
	if err != nil {
		return permanent(fmt.Errorf("SMTP client for %s: %v", t.Host, err))
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		// The library's errors name the server and the SMTP reply, never the password.
		return fmt.Errorf("SMTP %s:%d: %v", t.Host, t.Port, err)
	}
	return nil
}

func emailText(m message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n%s\n\n", m.Title, m.Summary)
	for _, f := range m.Facts {
		fmt.Fprintf(&b, "%-17s %s\n", f.Name+":", f.Value)
	}
	if m.URL != "" {
		fmt.Fprintf(&b, "\nBurn-down and charts: %s\n", m.URL)
	}
	fmt.Fprintf(&b, "\n-- \nSitemetrics · event %s\n", m.ID)
	return b.String()
}

var emailTemplate = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Summary}}</p>
{{if .Facts}}<table>{{range .Facts}}<tr><th align="left">{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}</table>{{end}}
{{if .URL}}<p><a href="{{.URL}}">Open the SLO: burn-down and charts at the time of this event</a></p>{{end}}
<p><small>Sitemetrics · event {{.ID}}</small></p>
</body></html>
`))

func emailHTML(m message) (string, error) {
	var b bytes.Buffer
	if err := emailTemplate.Execute(&b, m); err != nil {
		return "", fmt.Errorf("render email: %w", err)
	}
	return b.String(), nil
}
