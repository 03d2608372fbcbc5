-- Version 6: the summary triggers of 0005 run without JIT compilation.
--
-- The planner cannot know how many kinds a session's redactions_by_kind holds, and takes 100
-- rows for each jsonb_each_text: for a statement of 10,000 sessions it estimates 2,000,000 kind
-- rows, a cost of about 600,000, above the server's default jit_above_cost (100,000) and
-- jit_optimize_above_cost (500,000). The server then compiled the trigger's statement with LLVM
-- on every batch: 550 to 650 ms of a batch of 10,000 that took about 1.2 s, for a statement that
-- runs in 100 ms without it. JIT pays off for long analytical queries, not for a statement run
-- once per write; each function now turns it off for its own statements (SET jit = off applies
-- while the function runs, and is restored after it), whatever the server's setting.
ALTER FUNCTION sessions_summary_insert() SET jit = off;
ALTER FUNCTION sessions_summary_delete() SET jit = off;
ALTER FUNCTION sessions_summary_update() SET jit = off;
