"""Independent geodesic areas of OSM polygons, for checking GapMap's
`area_m2`. Reads a GeoJSON file (the OSM `multipolygons` layer converted by
ogr2ogr) and prints a JSON object mapping each feature's key
(`way-<osm_way_id>` or `relation-<osm_id>`, as GapMap names OSM assets) to
its area in square metres on the WGS84 ellipsoid, computed by pyproj's
Geod.geometry_area_perimeter after shapely has wound every exterior ring
counter-clockwise and every hole clockwise (pyproj sums signed ring areas).
Usage:

    python3 geodesic_areas.py polygons.geojson
"""

import json
import sys

from pyproj import Geod
from shapely.geometry import MultiPolygon, shape
from shapely.geometry.polygon import orient


def main() -> None:
    geod = Geod(ellps="WGS84")
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    out = {}
    for feature in doc["features"]:
        props = feature["properties"]
        if props.get("osm_way_id"):
            key = f"way-{props['osm_way_id']}"
        elif props.get("osm_id"):
            key = f"relation-{props['osm_id']}"
        else:
            continue
        geom = shape(feature["geometry"])
        parts = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
        area = 0.0
        for part in parts:
            a, _ = geod.geometry_area_perimeter(orient(part, sign=1.0))
            area += a
        out[key] = area
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
