"""Independent profile of a hand-built area, straight from the published
files, with shapely and pyproj (no GapMap code): residents apportioned by
Code-Point Open postcode units (each LSOA's Census 2021 residents shared
equally over the units placed in it; the area counts the units it covers),
IMD 2025 residents and LSOAs by decile, and the resident-weighted IMD score.

Usage: independent_profile.py DATA_DIR AREA.geojson (a Polygon in EPSG:27700)
Prints one JSON object.
"""
import csv
import io
import json
import sys
import zipfile

from pyproj import Transformer
from shapely import STRtree, points, covers
from shapely.geometry import shape, box

data, area_path = sys.argv[1], sys.argv[2]
area = shape(json.load(open(area_path)))  # EPSG:27700
to_ll = Transformer.from_crs(27700, 4326, always_xy=True)
to_bng = Transformer.from_crs(4326, 27700, always_xy=True)

# Candidate LSOAs: those within 3 km of the area (every LSOA a covered
# unit can lie in, with all of its units).
x0, y0, x1, y1 = area.buffer(3000).bounds
lon0, lat0 = to_ll.transform(x0, y0)
lon1, lat1 = to_ll.transform(x1, y1)
window = box(lon0 - 0.05, lat0 - 0.05, lon1 + 0.05, lat1 + 0.05)


def first(c):
    while isinstance(c[0], list):
        c = c[0]
    return c


lsoas = {}
for f in json.load(open(f"{data}/boundaries/lsoa21_ew_bsc.geojson"))["features"]:
    lon, lat = first(f["geometry"]["coordinates"])
    if abs(lon - (lon0 + lon1) / 2) > 0.5 or abs(lat - (lat0 + lat1) / 2) > 0.5:
        continue  # far away: cheap test before building the shape
    g = shape(f["geometry"])  # CRS84
    if g.intersects(window):
        lsoas[f["properties"]["lsoa21_code"]] = g
codes = sorted(lsoas)
tree = STRtree([lsoas[c] for c in codes])

# Postcode units of the OX area inside the reach (the area lies in OX4).
with zipfile.ZipFile(f"{data}/postcodes/codepo_gb.zip") as z:
    rows = list(csv.reader(io.TextIOWrapper(z.open("Data/CSV/ox.csv"), "utf-8")))
units = []
for r in rows:
    e, n = float(r[2]), float(r[3])
    if (e, n) != (0.0, 0.0) and x0 - 5000 <= e <= x1 + 5000 and y0 - 5000 <= n <= y1 + 5000:
        units.append((e, n))
# Each unit in the LSOA covering it in lon/lat (lowest code first).
per_lsoa, inside = {}, {}
for e, n in units:
    lon, lat = to_ll.transform(e, n)
    p = points(lon, lat)
    hits = sorted(codes[i] for i in tree.query(p) if covers(lsoas[codes[i]], p))
    if not hits:
        continue
    c = hits[0]
    per_lsoa[c] = per_lsoa.get(c, 0) + 1
    if covers(area, points(e, n)):
        inside[c] = inside.get(c, 0) + 1

people = {r["lsoa21_code"]: float(r["total_residents"]) for r in csv.DictReader(open(f"{data}/population/census21_usual_residents_lsoa21.csv"))}
imd = {r["lsoa21_code"]: r for r in csv.DictReader(open(f"{data}/deprivation/imd2025_lsoa21.csv")) if r["lsoa21_code"] in inside}

residents, by_decile, lsoas_by_decile, wsum, ssum = 0.0, [0.0] * 10, [0] * 10, 0.0, 0.0
shares = {}
for c, k in sorted(inside.items()):
    w = people[c] * (k / per_lsoa[c])
    shares[c] = k / per_lsoa[c]
    residents += w
    d = int(float(imd[c]["IMD_decile"]))
    by_decile[d - 1] += w
    lsoas_by_decile[d - 1] += 1
    wsum += w
    ssum += w * float(imd[c]["IMD_score"])
print(json.dumps({
    "residents": residents,
    "residents_by_decile": by_decile,
    "lsoas_by_decile": lsoas_by_decile,
    "imd_score": ssum / wsum,
    "shares": shares,
}))
