"""OWSLib writes to a running GapMap register through OGC API - Features
Part 4, then reads the result back. Usage:

    python3 owslib_register.py http://127.0.0.1:PORT/ EDITOR_TOKEN

Creates three entries (collection_item_create), replaces the second
(collection_item_update: PUT), deletes the third (collection_item_delete),
then reads the register back with collection_items and checks every value
against what was sent. The bearer token goes in the constructor's headers,
which OWSLib sends with every request. Prints one JSON line:
{"created": [ids], "updated": id, "deleted": id, "expected": [features]}
where "expected" are the two surviving entries as written here (not as
read back), for the caller to compare GDAL's reading with. Exits non-zero
with a message on the first failed check.
"""

import json
import sys

from owslib.ogcapi.features import Features

COLLECTION = "register"

# Points inside Oxfordshire's 2021 LSOAs, with more digits than any
# rounding would keep.
ENTRIES = [
    {
        "name": "Cowley Road Community Larder",
        "category": "community_larder",
        "lonlat": [-1.2383417265391, 51.7456712983417],
        "extra": {"capacity": 40, "opening_hours": "Mo,We 10:00-13:00", "postcode": "OX4 1HX"},
    },
    {
        "name": "Banbury Warm Space",
        "category": "warm_space",
        "lonlat": [-1.3395128734561, 52.0627391827364],
        "extra": {"organisation": "St Mary's", "valid_from": "2024-11-01"},
    },
    {
        "name": "Didcot Youth Club",
        "category": "youth_club",
        "lonlat": [-1.2441934718265, 51.6079812736451],
        "extra": {},
    },
]

# The replacement of the second entry: another name, category and point.
REPLACEMENT = {
    "name": "Banbury Warm Space (Town Hall)",
    "category": "community_cafe",
    "lonlat": [-1.3381272649173, 52.0611829173645],
    "extra": {"organisation": "Banbury Town Council", "valid_from": "2024-11-01", "valid_to": "2026-03-31"},
}


def feature(e: dict) -> dict:
    props = {"name": e["name"], "category": e["category"]}
    props.update(e["extra"])
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": e["lonlat"]}, "properties": props}


def location_id(api: Features) -> str:
    loc = api.response_headers.get("Location")
    assert loc, f"no Location header: {dict(api.response_headers)}"
    prefix = "/collections/register/items/"
    assert prefix in loc, loc
    return loc.rsplit("/", 1)[1]


def check(got: dict, want: dict, version: int) -> None:
    p = got["properties"]
    assert p["name"] == want["name"], (p["name"], want["name"])
    assert p["category"] == want["category"], (p["category"], want["category"])
    for k, v in want["extra"].items():
        assert p[k] == v, (k, p[k], v)
    assert p["version"] == version, (want["name"], p["version"], version)
    assert got["geometry"]["type"] == "Point", got["geometry"]
    x, y = got["geometry"]["coordinates"][:2]
    assert abs(x - want["lonlat"][0]) <= 1e-9 and abs(y - want["lonlat"][1]) <= 1e-9, (
        want["name"],
        (x, y),
        want["lonlat"],
    )


def main() -> None:
    url, token = sys.argv[1], sys.argv[2]
    api = Features(url, headers={"Authorization": f"Bearer {token}"})

    ids = []
    for e in ENTRIES:
        assert api.collection_item_create(COLLECTION, feature(e)) is True
        ids.append(location_id(api))
    assert len(set(ids)) == 3 and all(i.startswith("register-") for i in ids), ids

    for i, e in zip(ids, ENTRIES):
        check(api.collection_item(COLLECTION, i), e, 1)

    assert api.collection_item_update(COLLECTION, ids[1], feature(REPLACEMENT)) is True
    assert api.collection_item_delete(COLLECTION, ids[2]) is True

    items = api.collection_items(COLLECTION, limit=100)
    by_id = {f["id"]: f for f in items["features"]}
    assert set(by_id) == {ids[0], ids[1]}, sorted(by_id)
    assert items["numberMatched"] == 2, items["numberMatched"]
    check(by_id[ids[0]], ENTRIES[0], 1)
    check(by_id[ids[1]], REPLACEMENT, 2)
    # A replacement drops what it does not repeat.
    assert by_id[ids[1]]["properties"]["capacity"] is None

    try:
        api.collection_item(COLLECTION, ids[2])
    except RuntimeError as err:
        assert "404" in str(err) or "no feature" in str(err), err
    else:
        raise AssertionError(f"deleted {ids[2]} still readable")

    # Without the token, OWSLib's write is refused (401), and nothing changes.
    anon = Features(url)
    # OWSLib 0.35 keeps every instance's headers in one module-level dict
    # (REQUEST_HEADERS, updated in place): give this one its own, without
    # the token.
    anon.headers = {k: v for k, v in api.headers.items() if k != "Authorization"}
    try:
        anon.collection_item_create(COLLECTION, feature(ENTRIES[2]))
    except RuntimeError:
        pass
    else:
        raise AssertionError("a write without a token was accepted")
    assert api.collection_items(COLLECTION, limit=100)["numberMatched"] == 2

    expected = [
        {"id": ids[0], "name": ENTRIES[0]["name"], "category": ENTRIES[0]["category"], "lonlat": ENTRIES[0]["lonlat"], "version": 1},
        {"id": ids[1], "name": REPLACEMENT["name"], "category": REPLACEMENT["category"], "lonlat": REPLACEMENT["lonlat"], "version": 2},
    ]
    print(json.dumps({"created": ids, "updated": ids[1], "deleted": ids[2], "expected": expected}))


if __name__ == "__main__":
    main()
