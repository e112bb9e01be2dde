package main

import (
	"flag"
	"fmt"
	"io"
)

// usageFor is the help of a subcommand of the store ("storify", "storify serve",
// "storify exec"): what it does and its usage, before its flags.
func usageFor(name string) string {
	switch name {
	case "storify exec":
		return execUsage
	case "storify serve":
		return serveUsage
	}
	return usage
}

const usage = `storify runs a store: the manager's console here, customers over telnet.

Usage:
  storify [flags]                          open the store, with the manager console on this
                                           terminal; when stdin is not a terminal, its lines
                                           are run as a script (see --fail-fast)
  storify [flags] -c 'COMMAND...'          run manager commands, one a line, and exit
  storify exec [flags] COMMAND [ARG...]    run one manager command against the store and exit
  storify serve [flags]                    open the store without a console, for a service
                                           manager; SIGINT or SIGTERM closes it
  storify simulate [flags]                 run scripted customers against a running store
  storify import [flags] FILE.csv          add or update products from a CSV file, all rows or none
  storify help [SUBCOMMAND]                show this help, or a subcommand's (with its flags)

Customers connect with: telnet 127.0.0.1 65432
Manager commands: type help in the console, or run storify exec help.
A script's failures are one line each on stderr; the exit status is 1 if any failed.

Flags:
`

const serveUsage = `storify serve runs the store without a console, for a service manager. SIGINT or
SIGTERM closes it gracefully; a second signal exits at once.

Usage:
  storify serve [flags]

Flags:
`

const execUsage = `storify exec runs one manager command against the store and exits, without
serving customers: for cron jobs and scripts. It is safe beside a running store on
the same database. Its reply goes to stdout; if the command fails, one line says why
on stderr and the exit status is 1.

Usage:
  storify exec [flags] COMMAND [ARG...]

For example: storify exec --db shop.db restock "Blue Mug" 24

Flags:
`

// printFlags lists fs's flags as they are typed (--db, not -db), each with its
// argument, default and explanation.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		dashes := "--"
		if len(f.Name) == 1 {
			dashes = "-"
		}
		arg, text := flag.UnquoteUsage(f)
		line := "  " + dashes + f.Name
		if arg != "" {
			line += " " + arg
		}
		if def := f.DefValue; def != "" && def != "false" && def != "0" && def != "0s" {
			if arg == "string" {
				def = fmt.Sprintf("%q", def)
			}
			text += " (default " + def + ")"
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, text)
	})
}
