// Package dns is the embedded DNS server of user-defined networks: it
// answers A queries for the names of the network's containers (name,
// aliases, ID and short ID) and forwards every other query to the host's
// resolvers, as Docker's embedded server does.
//
// It owns no files: the caller gives it a lookup function (strata reads
// the network's address allocations, package ipam) and the upstream
// servers. It speaks UDP, which is what the C libraries of containers use
// for queries that fit in 512 bytes; forwarded answers are relayed as
// they come, truncation bit included, so a resolver that needs TCP for a
// long answer retries against the upstream's reply semantics.
package dns

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/sys/unix"
)

// Lookup returns the addresses of a container name as seen by the client
// at from (the networks it is on), or none if the name is not a
// container's.
type Lookup func(name string, from netip.Addr) []netip.Addr

// Server answers on one UDP socket.
type Server struct {
	conn      net.PacketConn
	lookup    Lookup
	upstreams []string
}

// Listen binds addr (ip:port) for UDP.
func Listen(addr string, lookup Lookup, upstreams []string) (*Server, error) {
	// SO_REUSEPORT: the server of a bridge that was just removed may
	// still hold the address for a moment when the bridge is made again.
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		})
		return errors.Join(err, serr)
	}}
	c, err := lc.ListenPacket(context.Background(), "udp4", addr)
	if err != nil {
		return nil, err
	}
	return &Server{conn: c, lookup: lookup, upstreams: upstreams}, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.conn.LocalAddr() }

// Serve answers queries until ctx ends.
func (s *Server) Serve(ctx context.Context) error {
	go func() {
		<-ctx.Done()
		s.conn.Close()
	}()
	buf := make([]byte, 4096)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return ctx.Err()
			}
			continue
		}
		q := append([]byte(nil), buf[:n]...)
		go s.answer(q, from)
	}
}

func (s *Server) answer(q []byte, from net.Addr) {
	var p dnsmessage.Parser
	h, err := p.Start(q)
	if err != nil {
		return
	}
	qs, err := p.AllQuestions()
	if err != nil || len(qs) != 1 {
		return
	}
	name := strings.ToLower(strings.TrimSuffix(qs[0].Name.String(), "."))
	var client netip.Addr
	if ua, ok := from.(*net.UDPAddr); ok {
		client, _ = netip.AddrFromSlice(ua.IP.To4())
	}
	addrs := s.lookup(name, client)
	if len(addrs) == 0 {
		if !s.forward(q, from) {
			_, _ = s.conn.WriteTo(failure(h, qs[0]), from)
		}
		return
	}
	resp, err := reply(h, qs[0], addrs)
	if err == nil {
		_, _ = s.conn.WriteTo(resp, from)
	}
}

// reply answers a question about a name of the network: its A or AAAA
// records, and an empty NOERROR for other types (the name exists).
func reply(h dnsmessage.Header, q dnsmessage.Question, addrs []netip.Addr) ([]byte, error) {
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true,
		RecursionDesired: h.RecursionDesired, RecursionAvailable: true})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	for _, a := range addrs {
		rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 600}
		var err error
		switch {
		case a.Is4() && (q.Type == dnsmessage.TypeA || q.Type == dnsmessage.TypeALL):
			err = b.AResource(rh, dnsmessage.AResource{A: a.As4()})
		case a.Is6() && (q.Type == dnsmessage.TypeAAAA || q.Type == dnsmessage.TypeALL):
			err = b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
		if err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

// failure is SERVFAIL, for a query no upstream answered.
func failure(h dnsmessage.Header, q dnsmessage.Question) []byte {
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true,
		RecursionDesired: h.RecursionDesired, RCode: dnsmessage.RCodeServerFailure})
	_ = b.StartQuestions()
	_ = b.Question(q)
	out, _ := b.Finish()
	return out
}

// forward relays a query to the first upstream that answers, and reports
// whether one did.
func (s *Server) forward(q []byte, from net.Addr) bool {
	for _, up := range s.upstreams {
		c, err := net.Dial("udp", net.JoinHostPort(up, "53"))
		if err != nil {
			continue
		}
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 4096)
		_, err = c.Write(q)
		var n int
		if err == nil {
			n, err = c.Read(buf)
		}
		c.Close()
		if err == nil {
			_, _ = s.conn.WriteTo(buf[:n], from)
			return true
		}
	}
	return false
}
