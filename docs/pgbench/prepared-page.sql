-- A first page of the account, prepared as listQuery wrote it before pageCap (LIMIT parameters
-- only): the server plans every call ("Planning Time" 0.12-0.8 ms at 10M). Replace the LIMIT
-- $2 of the inner scan by the number 101 to see the generic plan adopted after five calls.
set search_path=sessions_bench_10m;
prepare ld(text, int) as
SELECT page.*, (SELECT version FROM agent_names_versions WHERE account_id = $1) AS names_version FROM (
SELECT id, account_id, agent_id, started_at, ended_at, status, redactions_by_kind, upstream_model
	FROM sessions WHERE account_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2) AS page;
explain (analyze) execute ld('acct_bench', 26);
explain (analyze) execute ld('acct_bench', 26);
explain (analyze) execute ld('acct_bench', 26);
explain (analyze) execute ld('acct_bench', 26);
explain (analyze) execute ld('acct_bench', 26);
explain (analyze) execute ld('acct_bench', 26);
explain (analyze) execute ld('acct_bench', 26);
explain (analyze) execute ld('acct_bench', 26);
-- The generic plan, forced: its cost passes jit_above_cost, and the "JIT:" section shows 5-9 ms.
set plan_cache_mode = force_generic_plan;
explain (analyze) execute ld('acct_bench', 26);
