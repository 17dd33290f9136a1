-- Argo CD health check for secretlink.dev SecretReference, SecretStore and ClusterSecretStore (one script
-- serves all three: they share the status shape). Register it in argocd-cm under
-- resource.customizations.health.secretlink.dev_<Kind>; docs/operations.md shows how.
--
--   Healthy      Ready=True at the object's current generation.
--   Degraded     Stalled=True: the failure needs a person (a spec, a store, an annotation, a conflicting
--                object); the message says what.
--   Progressing  no status yet, a generation the operator has not observed, or Ready=False while the
--                operator retries (the store is unavailable, say).
local hs = { status = "Progressing", message = "Waiting for the secretlink operator to report status." }
if obj.status == nil then
  return hs
end

local generation = obj.metadata.generation
local function current(observed)
  return generation == nil or (observed ~= nil and observed >= generation)
end
if not current(obj.status.observedGeneration) then
  hs.message = "Waiting for the secretlink operator to observe generation " .. generation .. "."
  return hs
end

local ready, stalled
for _, condition in ipairs(obj.status.conditions or {}) do
  if condition.type == "Ready" then
    ready = condition
  elseif condition.type == "Stalled" then
    stalled = condition
  end
end

if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = stalled.reason .. ": " .. stalled.message
  return hs
end
if ready == nil or not current(ready.observedGeneration or generation) then
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end
hs.message = ready.reason .. ": " .. ready.message
return hs
