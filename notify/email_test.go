package notify_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
	"github.com/sitemetrics/sitemetrics/notify"
)

// mailServer is an in-process SMTP server (github.com/emersion/go-smtp) that offers
// STARTTLS with its own certificate and accepts AUTH PLAIN only over TLS, for one user.
type mailServer struct {
	mu       sync.Mutex
	addr     string
	messages []received
	authed   []string
	ca       *x509.CertPool
}

type received struct {
	From string
	To   []string
	TLS  bool
	Data []byte
}

func (m *mailServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &mailSession{srv: m, conn: c}, nil
}

type mailSession struct {
	srv  *mailServer
	conn *smtp.Conn
	user string
	msg  received
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *mailSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != "alerts" || password != "s3cret pass" {
			return errors.New("invalid credentials")
		}
		s.user = username
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return &smtp.SMTPError{Code: 530, Message: "authentication required"}
	}
	s.msg = received{From: from}
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.msg.Data, s.msg.TLS = b, isTLS
	s.srv.mu.Lock()
	s.srv.messages = append(s.srv.messages, s.msg)
	s.srv.authed = append(s.srv.authed, s.user)
	s.srv.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        { s.msg = received{} }
func (s *mailSession) Logout() error { return nil }

func startMailServer(t *testing.T) *mailServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	m := &mailServer{ca: x509.NewCertPool()}
	m.ca.AddCert(cert)
	srv := smtp.NewServer(m)
	srv.Domain = "mail.test"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.AllowInsecureAuth = false // AUTH only after STARTTLS
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	m.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return m
}

// An email channel sends a multipart message with a text and an HTML part, after
// STARTTLS and AUTH, for the firing and for the resolve.
func TestEmailOverSMTP(t *testing.T) {
	mailSrv := startMailServer(t)
	s := dbtest.Open(t, migrations.SQLite)
	r := newRig(t, s)
	r.n = notify.New(s, notify.Options{BaseURL: "https://slo.example", Now: r.clock.Now, Log: dbtest.Logger(t),
		SMTPTLS: &tls.Config{RootCAs: mailSrv.ca}})
	host, port, _ := net.SplitHostPort(mailSrv.addr)
	r.channel("sre-mail", "email", "smtp://alerts:s3cret%20pass@"+host+":"+port+"?from=sitemetrics@example.com&to=sre@example.com,oncall@example.com", nil, pageOnly)
	r.history()
	r.cross()
	r.step()
	r.good(2)
	r.step()
	r.good(1)
	r.step()
	mailSrv.mu.Lock()
	defer mailSrv.mu.Unlock()
	if len(mailSrv.messages) != 2 {
		t.Fatalf("%d messages, want firing and resolved", len(mailSrv.messages))
	}
	for i, m := range mailSrv.messages {
		if mailSrv.authed[i] != "alerts" || !m.TLS || m.From != "sitemetrics@example.com" || strings.Join(m.To, ",") != "sre@example.com,oncall@example.com" {
			t.Fatalf("envelope %+v (user %q)", m, mailSrv.authed[i])
		}
		msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
		must(t, err)
		subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		want := []string{"FIRING page", "RESOLVED page"}[i]
		if !strings.HasPrefix(subject, want) || !strings.Contains(subject, "Checkout availability") {
			t.Fatalf("subject %q", subject)
		}
		if id := msg.Header.Get("Message-Id"); !strings.HasPrefix(id, "<evt_") {
			t.Fatalf("Message-ID %q: want the event id", id)
		}
		mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/alternative" {
			t.Fatalf("content type %q: %v", msg.Header.Get("Content-Type"), err)
		}
		parts := map[string]string{}
		mr := multipart.NewReader(msg.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			must(t, err)
			ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
			b, err := io.ReadAll(p)
			must(t, err)
			parts[ct] = decodeQP(t, p.Header.Get("Content-Transfer-Encoding"), b)
		}
		text, html := parts["text/plain"], parts["text/html"]
		if !strings.Contains(text, "Checkout availability") || !strings.Contains(text, "https://slo.example/slos/") {
			t.Fatalf("text part:\n%s", text)
		}
		if !strings.Contains(html, "<table>") || !strings.Contains(html, `href="https://slo.example/slos/`) {
			t.Fatalf("html part:\n%s", html)
		}
	}
}

func decodeQP(t *testing.T, enc string, b []byte) string {
	t.Helper()
	if strings.EqualFold(enc, "quoted-printable") {
		out, err := io.ReadAll(quotedPrintable(b))
		must(t, err)
		return string(out)
	}
	return string(b)
}

func quotedPrintable(b []byte) io.Reader {
	return quotedprintable.NewReader(strings.NewReader(string(b)))
}
