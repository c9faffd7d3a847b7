-- One purchase event per item of an order (pipelines/orders.yaml).
-- Returns the events in place of the order; an order without items is dropped.
function process(order)
  local d = order.data
  local events = {}
  for i, item in ipairs(d.items) do
    if json_type(item) ~= "object" or type(item.sku) ~= "string" then
      reject("item " .. i .. " has no sku")
    end
    local qty = math.tointeger(item.qty) or 1
    local price = tonumber(item.price) or 0
    events[i] = {
      id = order.id .. "#" .. i,
      type = "event",
      data = {
        event_type = "purchase",
        customer = d.email,
        product = item.sku,
        revenue = price * qty,
        quantity = qty,
        order = d.order_id or order.id,
        at = d.at,
      },
    }
  end
  if #events == 0 then return nil, "order without items" end
  return events
end
