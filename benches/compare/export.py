"""Export the GapMap features the comparison uses, from GapMap's own API.

    python export.py GAPMAP_URL OUTDIR

Writes, under OUTDIR (target/bench/, never the repository):
  lsoa.geojson        every `lsoa` item (CRS84), the pygeoapi GeoJSON provider's data
  lsoa_bng.geojson    the same items in EPSG:27700 (for geopandas)
  assets_bng.geojson  every `assets` item in EPSG:27700 (for geopandas)
  assets.geojson      the same assets in CRS84 (for the independent geodesic check)
Pages with limit=10000 until a short page.
"""
import json
import sys
import urllib.request

BNG = "http://www.opengis.net/def/crs/EPSG/0/27700"


def fetch_all(base, collection, crs=None):
    feats, offset, limit = [], 0, 10000
    while True:
        url = f"{base}collections/{collection}/items?limit={limit}&offset={offset}"
        if crs:
            url += f"&crs={crs}"
        with urllib.request.urlopen(url, timeout=120) as r:
            page = json.load(r)
        feats.extend(page["features"])
        if len(page["features"]) < limit:
            return feats
        offset += limit


def write(path, feats):
    with open(path, "w") as f:
        json.dump({"type": "FeatureCollection", "features": feats}, f)


def main():
    base, out = sys.argv[1], sys.argv[2]
    if not base.startswith("http://127.0.0.1:"):
        sys.exit(f"refusing non-loopback URL {base}")
    lsoa = fetch_all(base, "lsoa")
    write(f"{out}/lsoa.geojson", lsoa)
    write(f"{out}/lsoa_bng.geojson", fetch_all(base, "lsoa", BNG))
    assets = fetch_all(base, "assets", BNG)
    write(f"{out}/assets_bng.geojson", assets)
    write(f"{out}/assets.geojson", fetch_all(base, "assets"))
    print(f"exported {len(lsoa)} LSOAs and {len(assets)} assets")


if __name__ == "__main__":
    main()
