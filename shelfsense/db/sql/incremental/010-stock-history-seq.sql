-- Several changes of one stock cell can share an event-time instant (a departure and an
-- observability change in the same batch): seq orders them as ingest applied them.
alter table stock_history add column seq bigserial;
