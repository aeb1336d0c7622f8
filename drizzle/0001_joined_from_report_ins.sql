-- A colleague's report-in is read from report_ins as a `joined` timeline entry (timelineOf);
-- the copies written before are dropped so the timeline shows each once.
DELETE FROM "timeline" WHERE "kind" = 'joined';
