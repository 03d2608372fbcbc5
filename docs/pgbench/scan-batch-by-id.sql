SELECT s.id, s.account_id, s.agent_id, s.started_at, s.ended_at, s.status, s.redactions_by_kind, s.upstream_model
FROM (SELECT id, started_at FROM sessions WHERE account_id = 'acct_bench' AND started_at >= '2026-07-01' AND (started_at, id) < ('2026-10-20', '') ORDER BY started_at DESC, id DESC LIMIT 1001) AS page
CROSS JOIN LATERAL (SELECT * FROM sessions WHERE sessions.id = page.id OFFSET 0) AS s
ORDER BY page.started_at DESC, page.id DESC;
