"""Independent count of an OSM extract's assets per category, with pyosmium.

Usage: python3 count_osm.py FILE.osm.pbf RULES.json

RULES.json: [{"category": c, "any": [[key, [values]]...], "exclude": [...]}...]
in the order of the atlas definition; the first matching rule wins (an empty
value list matches any value). Counted: tagged nodes, and areas as libosmium
assembles them (closed ways with their own tags, multipolygon relations with
the relation's tags). Prints one JSON object per line:
{"key": "node-1"|"way-2"|"relation-3", "category": c, "area_m2": a|null}
with the polygon's geodesic area on WGS84 from pyproj
(Geod.geometry_area_perimeter of the shapely geometry).
"""

import json
import sys

import osmium
import shapely.wkb
from pyproj import Geod

GEOD = Geod(ellps="WGS84")


def first_rule(rules, tags):
    for r in rules:
        hit = any(k in tags and (not vs or tags[k] in vs) for k, vs in r["any"])
        miss = any(k in tags and (not vs or tags[k] in vs) for k, vs in r["exclude"])
        if hit and not miss:
            return r["category"]
    return None


class Counter(osmium.SimpleHandler):
    def __init__(self, rules):
        super().__init__()
        self.rules = rules
        self.wkb = osmium.geom.WKBFactory()
        self.out = []

    def node(self, n):
        tags = {t.k: t.v for t in n.tags}
        c = first_rule(self.rules, tags)
        if c:
            self.out.append({"key": f"node-{n.id}", "category": c, "area_m2": None})

    def area(self, a):
        tags = {t.k: t.v for t in a.tags}
        c = first_rule(self.rules, tags)
        if not c:
            return
        key = f"way-{a.orig_id()}" if a.from_way() else f"relation-{a.orig_id()}"
        try:
            geom = shapely.wkb.loads(self.wkb.create_multipolygon(a), hex=True)
        except RuntimeError as e:
            self.out.append({"key": key, "category": c, "area_m2": None, "invalid": str(e)})
            return
        area, _ = GEOD.geometry_area_perimeter(geom)
        self.out.append({"key": key, "category": c, "area_m2": abs(area),
                         "valid": geom.is_valid})


def main():
    with open(sys.argv[2]) as f:
        rules = json.load(f)
    h = Counter(rules)
    h.apply_file(sys.argv[1], locations=True)
    for row in h.out:
        print(json.dumps(row))


main()
