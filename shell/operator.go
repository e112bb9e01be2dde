package shell

import (
	"context"
	"fmt"

	"github.com/storify/storify"
)

// The manager's commands for looking at one product closely and correcting its
// stock.

// adjustmentsShown caps the audit trail that show lists: the newest ones.
const adjustmentsShown = 10

func (m *Manager) show(ctx context.Context, a Args) error {
	p, err := m.findProduct(ctx, a.Get("PRODUCT"))
	if err != nil {
		return err
	}
	sales, err := m.store.Sales(ctx)
	if err != nil {
		return err
	}
	var sold storify.Sale
	for _, s := range sales {
		if s.ProductID == p.ID {
			sold = s
		}
	}
	adjs, err := m.store.Adjustments(ctx, p.ID)
	if err != nil {
		return err
	}
	m.printf("#%d %s\n", p.ID, p.Name)
	if p.Description != "" {
		m.printf("  %s\n", p.Description)
	}
	status := "on sale"
	if p.Discontinued {
		status = "discontinued"
	}
	m.printf("  Price:       %s (%s)\n", p.Price, status)
	m.printf("  On hand:     %d\n", p.Stock)
	m.printf("  Received:    %d\n", p.Received)
	m.printf("  Sold:        %d (revenue %s; cancelled orders left out)\n", sold.Units, sold.Revenue)
	m.printf("  Written off: %d\n", storify.WrittenOff(adjs, p.ID))
	if len(adjs) > 0 {
		m.printf("  Adjustments:\n")
		if len(adjs) > adjustmentsShown {
			m.printf("    (%d older ones left out)\n", len(adjs)-adjustmentsShown)
			adjs = adjs[len(adjs)-adjustmentsShown:]
		}
		for _, adj := range adjs {
			m.printf("    %s  %+6d  %s\n", adj.Made.Local().Format("2006-01-02 15:04"), adj.Delta, adj.Reason)
		}
	}
	return nil
}

func (m *Manager) adjust(ctx context.Context, a Args) error {
	delta, err := storify.ParseAdjustment(a.Get("-N"))
	if err != nil {
		return err
	}
	p, err := m.findProduct(ctx, a.Get("PRODUCT"))
	if err != nil {
		return err
	}
	if p, err = m.store.AdjustStock(ctx, p.ID, delta, a.Get("REASON")); err != nil {
		return err
	}
	what := fmt.Sprintf("%s written off", count(-delta, "unit"))
	if delta > 0 {
		what = fmt.Sprintf("%s put back", count(delta, "unit"))
	}
	m.printf("#%d %s: %s; %d in stock.\n", p.ID, p.Name, what, p.Stock)
	return nil
}
