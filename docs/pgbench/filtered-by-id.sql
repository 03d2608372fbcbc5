SELECT s.id, s.account_id, s.agent_id, s.started_at, s.ended_at, s.status, s.redactions_by_kind, s.upstream_model
FROM (SELECT id, started_at FROM (SELECT id, started_at, status, redaction_count FROM sessions WHERE account_id = 'acct_bench' AND agent_id = 'agt_01KZ2EQ400ABYZR1S1G9JMY5HZ' AND (started_at, id) < ('2026-10-20', '') ORDER BY started_at DESC, id DESC LIMIT 1000) AS scanned
  WHERE status = 'error' ORDER BY started_at DESC, id DESC LIMIT 26) AS k JOIN sessions s ON s.id = k.id ORDER BY k.started_at DESC, k.id DESC;
