"""OWSLib against a running GapMap server: list collections, read items with a
bbox, and page through the LSOAs with limit/offset. Usage:

    python3 owslib_check.py http://127.0.0.1:PORT/ EXPECTED_BBOX_COUNT

Exits non-zero (with a message) on the first failed check.
"""

import sys

from owslib.ogcapi.features import Features


def main() -> None:
    url, bbox_expected = sys.argv[1], int(sys.argv[2])
    api = Features(url)

    ids = {c["id"] for c in api.collections()["collections"]}
    for want in ("lsoa", "lsoa-2011", "wards", "districts", "assets", "assets-park"):
        assert want in ids, f"collection {want} missing from {sorted(ids)}"
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]

    lsoa = api.collection("lsoa")
    assert lsoa["id"] == "lsoa" and "extent" in lsoa, lsoa

    bbox = [-1.215, 51.705, -1.185, 51.725]
    items = api.collection_items("lsoa", bbox=bbox, limit=1000)
    got = len(items["features"])
    assert got == bbox_expected == items["numberMatched"], f"bbox: {got} features, numberMatched {items['numberMatched']}, expected {bbox_expected}"

    seen = []
    offset = 0
    while True:
        page = api.collection_items("lsoa", limit=100, offset=offset)
        assert page["numberMatched"] == 429, page["numberMatched"]
        seen.extend(f["id"] for f in page["features"])
        if len(page["features"]) < 100:
            break
        offset += 100
    assert len(seen) == 429 and len(set(seen)) == 429, f"paging saw {len(seen)} ({len(set(seen))} unique)"

    oxford = api.collection_items("lsoa", filter="imd_decile <= 2 AND district = 'E07000178'", limit=1000)
    assert oxford["numberMatched"] > 0 and all(
        f["properties"]["imd_decile"] <= 2 and f["properties"]["district"] == "E07000178" for f in oxford["features"]
    ), "filter"

    one = api.collection_item("lsoa", "E01028513")
    assert one["id"] == "E01028513", one["id"]
    print(f"owslib ok: {len(ids)} collections, bbox {got}, paged {len(seen)}, filter {oxford['numberMatched']}")


if __name__ == "__main__":
    main()
