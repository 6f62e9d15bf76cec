package main

import (
	"crypto/sha1"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/vmware/govmomi/simulator"
)

type server struct {
	http       *http.Server
	url        string
	thumbprint string
	done       chan error
}

// serve lets the simulator's NewServer register its handlers on
// Service.ServeMux and set itself up, then serves that mux from our own
// TLS listener on o.listen with retarget in front of it. NewServer starts
// an httptest-style server on the mux itself, which cannot be given a
// wrapper before it starts; that server, bound to an ephemeral loopback
// port, is closed at once and the addresses it recorded are pointed at
// our listener.
func serve(m *simulator.Model, c *cbt, o *options) (*server, error) {
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return nil, err
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("-listen %s: %s is not a loopback address", o.listen, ip)
	}

	m.Service.TLS = new(tls.Config)
	m.Service.Listen = &url.URL{Host: "127.0.0.1:0", User: url.UserPassword(o.username, o.password)}
	inner := m.Service.NewServer()
	tlsConfig := inner.TLS.Clone() // the simulator's certificate, ClientAuth for certificate logins
	innerHost := inner.URL.Host
	inner.Close()

	host := ln.Addr().String()
	m.Service.Listen.Host = host
	simulator.Map.SessionManager().ServiceHostName = host
	for _, s := range simulator.Map.OptionManager().Setting {
		v := s.GetOptionValue()
		if str, ok := v.Value.(string); ok && strings.Contains(str, innerHost) {
			v.Value = strings.ReplaceAll(str, innerHost, host)
		}
	}

	sum := sha1.Sum(tlsConfig.Certificates[0].Certificate[0])
	hexes := make([]string, len(sum))
	for i, b := range sum {
		hexes[i] = fmt.Sprintf("%02X", b)
	}

	s := &server{
		http: &http.Server{
			Handler:   &retarget{next: m.Service.ServeMux, cbt: c},
			TLSConfig: tlsConfig,
			ErrorLog:  log.New(io.Discard, "", 0), // clients that reject the certificate
		},
		url:        "https://" + host + simulator.Map.Path,
		thumbprint: strings.Join(hexes, ":"),
		done:       make(chan error, 1),
	}
	go func() { s.done <- s.http.Serve(tls.NewListener(ln, tlsConfig)) }()
	return s, nil
}

func (s *server) close() {
	_ = s.http.Close()
}
