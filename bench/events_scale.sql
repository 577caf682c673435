-- 10,000,000 gate events in the central events table, generated in SQL (bench/events_scale.py).
-- One year (2026), 200 gates in 10 zones, 2,000,000 cardholders; per 100 events: 46
-- decisions (1 in 6 denied, with its rule), 40 passages, 13 reads, 1 fault or emergency.
-- Ids follow time, as shipping makes them (a controller ships in journal order).
ALTER TABLE events DISABLE TRIGGER USER;
INSERT INTO events (key, at, gate, zone, controller, kind, card, person_id, escort_id,
                    allowed, reasons, passed, direction, detail)
SELECT 'bench-' || g,
       timestamptz '2026-01-01 00:00+00' + (g * (interval '365 days' / :n)),
       'gate-' || (g % 200),
       'zone-' || (g % 200 / 20),
       'ctl-' || (g % 4),
       k.kind,
       'C' || lpad(p::text, 9, '0'),
       p,
       CASE WHEN g % 5 = 0 THEN p % 1000 END,
       CASE WHEN k.kind = 'decision' THEN g % 6 <> 0 END,
       CASE WHEN k.kind = 'decision' AND g % 6 = 0
            THEN json_build_array(json_build_object('rule', 'R' || (1 + g % 17), 'code', 'bench', 'message', 'generated'))
            ELSE '[]'::json END,
       CASE WHEN k.kind = 'passage' THEN g % 50 <> 0 END,
       CASE WHEN g % 3 = 0 THEN 'out' ELSE 'in' END,
       json_build_object('journal_seq', g)
FROM generate_series(1, :n) AS g
CROSS JOIN LATERAL (SELECT ((g::bigint * 7919) % 2000000 + 1)::int AS p) AS person
CROSS JOIN LATERAL (SELECT CASE WHEN g % 100 < 46 THEN 'decision'
                                WHEN g % 100 < 86 THEN 'passage'
                                WHEN g % 100 < 99 THEN 'read'
                                WHEN g / 100 % 2 = 0 THEN 'fault' ELSE 'emergency' END AS kind) AS k;
ALTER TABLE events ENABLE TRIGGER USER;
VACUUM ANALYZE events;
