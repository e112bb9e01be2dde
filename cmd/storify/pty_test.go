//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ptyChild is storify running on a pseudo-terminal, as a manager at a terminal
// would run it: the console's line editor, completion and history are on.
type ptyChild struct {
	t      *testing.T
	master *os.File
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer // everything the terminal showed
	done   chan struct{}
}

// openPTY returns the master and the slave side of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), unix.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlockpt: %v", e)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the pty's slave: %v", err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120}); err != nil {
		t.Fatalf("set the window size: %v", err)
	}
	return m, s
}

// startPTY runs storify with args on a new pseudo-terminal, with env added.
func startPTY(t *testing.T, env []string, args ...string) *ptyChild {
	t.Helper()
	master, slave := openPTY(t)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "STORIFY_TEST_CHILD=1", "TERM=xterm"), env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	p := &ptyChild{t: t, master: master, cmd: cmd, done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			// The line editor asks where the cursor is; a terminal answers.
			for range bytes.Count(buf[:n], []byte("\x1b[6n")) {
				master.Write([]byte("\x1b[1;1R"))
			}
			if err != nil {
				break
			}
		}
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		master.Close()
		<-p.done
	})
	return p
}

// output is what the terminal has shown so far.
func (p *ptyChild) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// waitFor waits until the terminal has shown s after what it showed at mark, and
// returns the mark just past it.
func (p *ptyChild) waitFor(mark int, s string) int {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := p.output()
		if i := strings.Index(out[mark:], s); i >= 0 {
			return mark + i + len(s)
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the terminal did not show %q; it showed:\n%q", s, out[mark:])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// typeKeys sends keys as if typed.
func (p *ptyChild) typeKeys(keys string) {
	p.t.Helper()
	if _, err := p.master.Write([]byte(keys)); err != nil {
		p.t.Fatal(err)
	}
}

// exited waits for the process to end and returns its exit status.
func (p *ptyChild) exited() int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(15 * time.Second):
		p.t.Fatalf("storify did not exit; the terminal showed:\n%q", p.output())
		return -1
	}
}
