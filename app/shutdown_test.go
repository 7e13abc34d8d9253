package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestShutdownClosesKeptAliveConnections stops the portal while 50 clients send requests over
// kept-alive connections, each honouring "Connection: close" and, like a load balancer, opening no new
// connection once /readyz has answered 503. No client may meet a reset or an early end of a
// connection; every response to a request sent after /readyz said 503 must close its connection; the
// server must return within ten seconds.
func TestShutdownClosesKeptAliveConnections(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	go func() { served <- p.app.ServeListener(ctx, ln) }()

	var (
		outOfRotation atomic.Bool
		notReadyAt    atomic.Int64 // Unix nanoseconds when /readyz first answered 503
		requests      atomic.Int64
		closes        atomic.Int64 // connections ended by a response that said Connection: close
		refused       atomic.Int64 // dials refused once the listener closed
		mu            sync.Mutex
		failures      []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}

	// The load balancer's health check.
	probed := make(chan struct{})
	go func() {
		defer close(probed)
		for {
			status, err := getOnce(addr, "/readyz")
			if err != nil {
				return // the listener has closed
			}
			if status == http.StatusServiceUnavailable && !outOfRotation.Load() {
				notReadyAt.Store(time.Now().UnixNano())
				outOfRotation.Store(true)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()

	const clients = 50
	started := make(chan struct{}, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := []string{"/healthz", "/sign-in"}[i%2]
			var conn net.Conn
			var br *bufio.Reader
			first := true
			for {
				if conn == nil {
					if outOfRotation.Load() {
						return
					}
					c, err := net.Dial("tcp", addr)
					if errors.Is(err, syscall.ECONNREFUSED) {
						refused.Add(1)
						return
					}
					if err != nil {
						fail("client %d: dial: %v", i, err)
						return
					}
					conn, br = c, bufio.NewReader(c)
				}
				sentAt := time.Now()
				if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: portal.test\r\n\r\n", path); err != nil {
					fail("client %d: write on an open connection: %v", i, err)
					return
				}
				res, err := http.ReadResponse(br, nil)
				if err != nil {
					fail("client %d: read on an open connection: %v", i, err)
					return
				}
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if err != nil {
					fail("client %d: read body: %v", i, err)
					return
				}
				requests.Add(1)
				if first {
					started <- struct{}{}
					first = false
				}
				if at := notReadyAt.Load(); at != 0 && sentAt.UnixNano() > at && !res.Close {
					fail("client %d: %s sent after /readyz said 503 answered %d without Connection: close", i, path, res.StatusCode)
				}
				if res.Close {
					closes.Add(1)
					conn.Close()
					conn = nil
				}
				time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
			}
		}()
	}
	for range clients {
		<-started
	}
	time.Sleep(200 * time.Millisecond) // every client is now in its stride on a kept-alive connection
	before := requests.Load()
	stoppedAt := time.Now()
	stop()

	select {
	case err := <-served:
		if err != nil {
			t.Errorf("ServeListener: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the server had not stopped 15 s after it was asked to")
	}
	took := time.Since(stoppedAt)
	wg.Wait()
	<-probed

	for _, f := range failures {
		t.Error(f)
	}
	at := notReadyAt.Load()
	if at == 0 {
		t.Fatal("/readyz never answered 503 during the shutdown")
	}
	readyzAfter := time.Unix(0, at).Sub(stoppedAt)
	if readyzAfter > 2*time.Second { // the probe itself takes time on a busy machine; the portal flips at once
		t.Errorf("/readyz answered 503 only %s after the shutdown began", readyzAfter)
	}
	if took > shutdownTimeout {
		t.Errorf("shutdown took %s, more than %s", took, shutdownTimeout)
	}
	if closes.Load() < clients {
		t.Errorf("%d connections were closed by Connection: close, want at least one for each of the %d clients", closes.Load(), clients)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("the listener still accepts connections after the shutdown")
	}
	t.Logf("%d clients: %d requests before the shutdown, %d in all; /readyz 503 after %s; %d connections closed by Connection: close; %d dials refused; %d resets or early ends; shutdown returned after %s",
		clients, before, requests.Load(), readyzAfter.Round(time.Millisecond), closes.Load(), refused.Load(), len(failures), took.Round(time.Millisecond))
}

// getOnce sends one request on a new connection and returns the status.
func getOnce(addr, path string) (int, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: portal.test\r\nConnection: close\r\n\r\n", path); err != nil {
		return 0, err
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return res.StatusCode, err
}

// TestShutdownEndsWhileRequestsKeepComing: a client that ignores /readyz and keeps sending does not
// hold the drain open past its limit, and is told to close every connection meanwhile.
func TestShutdownEndsWhileRequestsKeepComing(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	p.app.drain.quiet, p.app.drain.max = time.Hour, 500*time.Millisecond // only the limit can end this drain
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	go func() { served <- p.app.ServeListener(ctx, ln) }()

	var during, kept atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				return // the listener has closed
			}
			after := p.app.drain.draining.Load() // the server is draining before this request is sent
			fmt.Fprintf(conn, "GET /sign-in HTTP/1.1\r\nHost: portal.test\r\n\r\n")
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err == nil {
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if after {
					during.Add(1)
					if !res.Close {
						kept.Add(1)
					}
				}
			}
			conn.Close()
		}
	}()
	time.Sleep(100 * time.Millisecond)
	began := time.Now()
	stop()
	if err := <-served; err != nil {
		t.Errorf("ServeListener: %v", err)
	}
	took := time.Since(began)
	<-done
	if took < p.app.drain.max || took > p.app.drain.max+2*time.Second {
		t.Errorf("the drain under constant requests took %s, want about %s", took, p.app.drain.max)
	}
	if during.Load() == 0 || kept.Load() != 0 {
		t.Errorf("%d responses during the drain, %d of them without Connection: close", during.Load(), kept.Load())
	}
	t.Logf("drain ended at its limit after %s; %d responses meanwhile, all closing their connections", took.Round(time.Millisecond), during.Load())
}
