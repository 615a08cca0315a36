package sqlstore

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/mxaccounts/mxaccounts/internal/store"
)

// auditColumns is the column list that scanAuditEvent reads, in its order.
const auditColumns = `id, created_ms, action, actor, target, ip, user_agent, outcome,
	details`

const (
	// The RETURNING clause gives back the ID both databases assign.
	insertAuditEvent = `
		INSERT INTO audit_events (created_ms, action, actor, target, ip, user_agent,
			outcome, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id`
	deleteAuditEventsBefore = `DELETE FROM audit_events WHERE created_ms < ?`
)

// AppendAuditEvent implements store.AuditLog.
func (s *Store) AppendAuditEvent(ctx context.Context, e *store.AuditEvent) error {
	details := string(e.Details)
	if details == "" {
		details = "{}"
	}

	// In a transaction, since SQLite runs queries that return rows on its read-only
	// pool.
	return s.Transact(ctx, func(tx store.Store) error {
		err := tx.(*Store).q.queryRow(ctx, insertAuditEvent, e.TimeMS, e.Action, e.Actor,
			e.Target, e.IP, e.UserAgent, e.Outcome, details).Scan(&e.ID)
		if err != nil {
			return fmt.Errorf("append audit event %s: %w", e.Action, err)
		}
		return nil
	})
}

// AuditEvents implements store.AuditLog.
func (s *Store) AuditEvents(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	var (
		conds []string
		args  []any
	)
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if f.User != "" {
		add("(actor = ? OR target = ?)", f.User, f.User)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.SinceMS > 0 {
		add("created_ms >= ?", f.SinceMS)
	}
	if f.UntilMS > 0 {
		add("created_ms < ?", f.UntilMS)
	}
	order := "DESC"
	switch {
	case f.Forward:
		order = "ASC"
		add("id > ?", f.After)
	case f.After > 0:
		add("id < ?", f.After)
	}

	query := `SELECT ` + auditColumns + ` FROM audit_events`
	if len(conds) > 0 {
		query += ` WHERE ` + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = math.MaxInt64
	}
	query += ` ORDER BY id ` + order + ` LIMIT ?`

	rs, err := s.q.query(ctx, query, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	defer rs.Close()

	var out []store.AuditEvent
	for rs.Next() {
		var e store.AuditEvent
		if err := scanAuditEvent(rs, &e); err != nil {
			return nil, fmt.Errorf("list audit events: %w", err)
		}
		out = append(out, e)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return out, nil
}

// scanAuditEvent reads the columns of auditColumns into e.
func scanAuditEvent(r row, e *store.AuditEvent) error {
	var details string
	err := r.Scan(&e.ID, &e.TimeMS, &e.Action, &e.Actor, &e.Target, &e.IP, &e.UserAgent,
		&e.Outcome, &details)
	e.Details = []byte(details)
	return err
}

// DeleteAuditEventsBefore implements store.AuditLog.
func (s *Store) DeleteAuditEventsBefore(ctx context.Context, beforeMS int64) (int64, error) {
	n, err := s.q.exec(ctx, deleteAuditEventsBefore, beforeMS)
	if err != nil {
		return 0, fmt.Errorf("delete audit events before %d: %w", beforeMS, err)
	}
	return n, nil
}
