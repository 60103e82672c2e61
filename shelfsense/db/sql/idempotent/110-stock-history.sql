-- Stock history by event time. Movements are often back-dated (a departure is dated at the
-- tag's last read, a weight pick at the moment the hand began to move), so a change can land
-- before rows already written for its cell. Each change is therefore recorded as a delta: the
-- new row's quantity is the cell's quantity as of its own time plus the delta, and every later
-- row of the cell moves by the same delta. `?at=` then answers what was true at that time.
create or replace function shelfsense_stock_state(qty integer, min_qty integer) returns text
language sql immutable as $$
    select case when qty <= 0 then 'out'
                when min_qty is not null and qty < min_qty then 'low'
                else 'ok' end
$$;

create or replace function shelfsense_record_stock(
    p_site text, p_sku text[], p_location text[], p_ts timestamptz[], p_delta integer[],
    p_state text[]
) returns void language plpgsql as $$
declare
    i integer;
    previous integer;
    threshold integer;
    quantity integer;
begin
    for i in 1 .. coalesce(array_length(p_sku, 1), 0) loop
        select min_qty into threshold from locations
        where site_id = p_site and location_id = p_location[i];
        select h.qty into previous from stock_history h
        where h.site_id = p_site and h.sku = p_sku[i] and h.location_id = p_location[i]
          and h.ts <= p_ts[i]
        order by h.ts desc, h.seq desc limit 1;
        quantity := greatest(coalesce(previous, 0) + p_delta[i], 0);
        insert into stock_history (ts, site_id, sku, location_id, qty, state)
        values (p_ts[i], p_site, p_sku[i], p_location[i], quantity,
                case when p_state[i] = 'unknown' then 'unknown'
                     else shelfsense_stock_state(quantity, threshold) end);
        if p_delta[i] <> 0 then
            update stock_history h
            set qty = greatest(h.qty + p_delta[i], 0),
                state = case when h.state = 'unknown' then 'unknown'
                             else shelfsense_stock_state(greatest(h.qty + p_delta[i], 0), threshold)
                        end
            where h.site_id = p_site and h.sku = p_sku[i] and h.location_id = p_location[i]
              and h.ts > p_ts[i];
        end if;
    end loop;
end
$$;
