-- wrk script: cycles through the request paths in the file named by the
-- PATHS environment variable (one per line), so that every connection walks
-- the same tile list (benches/compare.sh, tile comparison).
local paths = {}
for line in io.lines(os.getenv("PATHS")) do
  if #line > 0 then paths[#paths + 1] = line end
end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
