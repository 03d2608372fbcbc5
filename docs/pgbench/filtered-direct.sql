SELECT * FROM (SELECT id, account_id, agent_id, started_at, ended_at, status, redactions_by_kind, upstream_model, redaction_count FROM sessions WHERE account_id = 'acct_bench' AND agent_id = 'agt_01KZ2EQ400ABYZR1S1G9JMY5HZ' AND (started_at, id) < ('2026-10-20', '') ORDER BY started_at DESC, id DESC LIMIT 1000) AS scanned
  WHERE status = 'error' ORDER BY started_at DESC, id DESC LIMIT 26;
