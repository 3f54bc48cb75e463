// Command mkbusybox writes a busybox root filesystem tarball to stdout, made
// from Debian's busybox-static, for `strata import`:
//
//	go run ./hack/mkbusybox | strata import - busybox:latest
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/strata-containers/strata/internal/testutil/rootfs"
)

func main() {
	busybox := flag.String("busybox", rootfs.DefaultBusybox, "path of a statically linked busybox")
	flag.Parse()
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	if err := rootfs.WriteBusybox(out, *busybox); err != nil {
		fmt.Fprintln(os.Stderr, "mkbusybox:", err)
		os.Exit(1)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "mkbusybox:", err)
		os.Exit(1)
	}
}
