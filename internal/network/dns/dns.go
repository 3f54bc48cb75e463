// Package dns is the embedded DNS server of user-defined networks: it
// answers A queries for the names of the network's containers (name,
// aliases, ID and short ID) and forwards every other query to the host's
// resolvers, as Docker's embedded server does.
//
// It owns no files: the caller gives it a lookup function (strata reads
// the network's address allocations, package ipam) and the upstream
// servers. It speaks UDP and, for resolvers that retry a truncated answer,
// TCP; forwarded queries go upstream over the protocol they came on, and
// answers are relayed byte for byte.
package dns

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
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

// Server answers on a UDP socket and a TCP listener of one address.
type Server struct {
	conn      net.PacketConn
	ln        net.Listener
	lookup    Lookup
	upstreams []string
}

// reusePort lets the server of a bridge that was just removed still hold
// the address for a moment when the bridge is made again.
var reusePort = net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	return errors.Join(err, serr)
}}

// Listen binds addr (ip:port) for UDP and TCP.
func Listen(addr string, lookup Lookup, upstreams []string) (*Server, error) {
	c, err := reusePort.ListenPacket(context.Background(), "udp4", addr)
	if err != nil {
		return nil, err
	}
	ln, err := reusePort.Listen(context.Background(), "tcp4", c.LocalAddr().String())
	if err != nil {
		c.Close()
		return nil, err
	}
	return &Server{conn: c, ln: ln, lookup: lookup, upstreams: upstreams}, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.conn.LocalAddr() }

// Serve answers queries until ctx ends.
func (s *Server) Serve(ctx context.Context) error {
	go func() {
		<-ctx.Done()
		s.conn.Close()
		s.ln.Close()
	}()
	go s.serveTCP()
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
		go func() {
			if resp := s.resolve(q, clientAddr(from), "udp"); resp != nil {
				_, _ = s.conn.WriteTo(resp, from)
			}
		}()
	}
}

// serveTCP answers length-prefixed queries on TCP connections (what a
// resolver retries with when an answer came back truncated).
func (s *Server) serveTCP() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			for {
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				q, err := readMsg(c)
				if err != nil {
					return
				}
				resp := s.resolve(q, clientAddr(c.RemoteAddr()), "tcp")
				if resp == nil || writeMsg(c, resp) != nil {
					return
				}
			}
		}()
	}
}

func readMsg(r io.Reader) ([]byte, error) {
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	msg := make([]byte, binary.BigEndian.Uint16(n[:]))
	_, err := io.ReadFull(r, msg)
	return msg, err
}

func writeMsg(w io.Writer, msg []byte) error {
	_, err := w.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...))
	return err
}

func clientAddr(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// resolve returns the response to query q: the network's own answer,
// the upstream's (over network, "udp" or "tcp"), or SERVFAIL; nil for a
// query it cannot parse.
func (s *Server) resolve(q []byte, client netip.Addr, network string) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(q)
	if err != nil {
		return nil
	}
	qs, err := p.AllQuestions()
	if err != nil || len(qs) != 1 {
		return nil
	}
	name := strings.ToLower(strings.TrimSuffix(qs[0].Name.String(), "."))
	if addrs := s.lookup(name, client); len(addrs) > 0 {
		resp, _ := reply(h, qs[0], addrs)
		return resp
	}
	if resp := s.forward(q, network); resp != nil {
		return resp
	}
	return failure(h, qs[0])
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

// forward relays a query to the first upstream that answers, over
// network ("udp" or "tcp"), and returns its answer.
func (s *Server) forward(q []byte, network string) []byte {
	for _, up := range s.upstreams {
		c, err := net.DialTimeout(network, net.JoinHostPort(up, "53"), 3*time.Second)
		if err != nil {
			continue
		}
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		var resp []byte
		if network == "tcp" {
			if err = writeMsg(c, q); err == nil {
				resp, err = readMsg(c)
			}
		} else if _, err = c.Write(q); err == nil {
			buf := make([]byte, 4096)
			var n int
			n, err = c.Read(buf)
			resp = buf[:n]
		}
		c.Close()
		if err == nil {
			return resp
		}
	}
	return nil
}
