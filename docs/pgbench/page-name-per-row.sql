SELECT page.*, (SELECT name FROM agents a WHERE a.id = page.agent_id) AS agent_name
FROM (SELECT id, account_id, agent_id, started_at, ended_at, status, redactions_by_kind, upstream_model
	FROM sessions WHERE account_id = 'acct_bench' AND (started_at, id) < ('2026-10-20', '')
	ORDER BY started_at DESC, id DESC LIMIT 101) AS page;
