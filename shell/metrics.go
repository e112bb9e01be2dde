package shell

import (
	"sync/atomic"
	"time"

	"github.com/storify/storify"
)

// unknownCommand is the name lines that name no command are recorded under, so that
// what a customer types never becomes a metric's label.
const unknownCommand = "unknown"

// tableRecorders are a table's command recorders for one CommandMetrics: one per
// command, by index, and one more for lines that name no command.
type tableRecorders struct {
	metrics storify.CommandMetrics
	recs    []storify.CommandRecorder
}

// recorders returns the table's recorders for m, asking m only when the table has
// none for it yet: sessions come and go without a lookup. m must be comparable
// (a pointer, or a struct of comparable fields).
func (t *Table[T]) recorders(set string, m storify.CommandMetrics) []storify.CommandRecorder {
	if r := t.recs.Load(); r != nil && r.metrics == m {
		return r.recs
	}
	recs := make([]storify.CommandRecorder, len(t.commands)+1)
	for i, c := range t.commands {
		recs[i] = m.Command(set, c.Name)
	}
	recs[len(t.commands)] = m.Command(set, unknownCommand)
	t.recs.Store(&tableRecorders{metrics: m, recs: recs})
	return recs
}

// commandRun is what a shell notes of the command it runs, to report it.
type commandRun struct {
	rec     storify.CommandRecorder // nil when there is nothing to report (an empty line)
	outcome storify.Outcome
	began   time.Time // the line read, or the last question answered
}

// setMetrics makes the shell report its commands, as command set set, to m.
func (sh *Shell[T]) setMetrics(set string, m storify.CommandMetrics) {
	if m == nil {
		return
	}
	sh.recs = sh.table.recorders(set, m)
	sh.metrics = m
}

// record reports the command just run, if any.
func (sh *Shell[T]) record() {
	if r := sh.run.rec; r != nil {
		r.Record(sh.run.outcome, time.Since(sh.run.began))
		sh.run.rec = nil
	}
}

// refused notes that the command was refused, unless it failed already.
func (sh *Shell[T]) refused() {
	if sh.run.outcome == storify.OutcomeOK {
		sh.run.outcome = storify.OutcomeRefused
	}
}

// answered notes that the user answered a question: the command's time runs from
// here, so that it does not count how long they took to answer.
func (sh *Shell[T]) answered() {
	if sh.run.rec != nil {
		sh.run.began = time.Now()
	}
}

// atomicRecorders is the type of Table.recs.
type atomicRecorders = atomic.Pointer[tableRecorders]
