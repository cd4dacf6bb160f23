"""OWSLib against a running GapMap server, over every collection: a bbox
crossing the antimeridian (valid, and empty over England), paging with
limit/offset until numberMatched, and an equality filter on a string
queryable taken from the first feature. Usage:

    python3 owslib_conformance.py http://127.0.0.1:PORT/

Prints one line per collection and 'owslib conformance ok' at the end; exits
non-zero on the first failed check.
"""

import sys

from owslib.ogcapi.features import Features


def main() -> None:
    url = sys.argv[1]
    api = Features(url)
    ids = [c["id"] for c in api.collections()["collections"]]
    assert len(ids) >= 5, ids
    for cid in ids:
        # West > east: crosses the antimeridian; nothing of Oxfordshire there.
        far = api.collection_items(cid, bbox=[177, 65, -177, 70], limit=10)
        assert far["numberMatched"] == 0 and far["features"] == [], (cid, far["numberMatched"])

        first = api.collection_items(cid, limit=1)
        total = first["numberMatched"]
        seen = []
        offset = 0
        page_size = max(1, total // 3 + 1)
        while True:
            page = api.collection_items(cid, limit=page_size, offset=offset)
            assert page["numberMatched"] == total, (cid, page["numberMatched"], total)
            seen.extend(f["id"] for f in page["features"])
            if len(page["features"]) < page_size:
                break
            offset += page_size
        assert len(seen) == total == len(set(seen)), (cid, len(seen), len(set(seen)), total)

        queryables = api.collection_queryables(cid)["properties"]
        checked = "no string value"
        if total:
            props = first["features"][0]["properties"]
            name = next(
                (k for k, v in props.items()
                 if isinstance(v, str) and "'" not in v and queryables.get(k, {}).get("type") == "string"),
                None,
            )
            if name is not None:
                value = props[name]
                hit = api.collection_items(cid, filter=f"{name} = '{value}'", limit=10000)
                assert hit["numberMatched"] >= 1, (cid, name, value)
                assert all(f["properties"][name] == value for f in hit["features"]), (cid, name)
                assert first["features"][0]["id"] in {f["id"] for f in hit["features"]}, (cid, name)
                checked = f"{name} = {value!r}: {hit['numberMatched']}"
                # sortby through OWSLib's (property, direction) form.
                ordered = api.collection_items(cid, sortby=(name, "desc"), limit=10000)
                values = [f["properties"].get(name) for f in ordered["features"]]
                present = [v for v in values if v is not None]
                assert present == sorted(present, reverse=True), (cid, name, "sortby")
        print(f"{cid}: {total} features paged by {page_size}; filter {checked}")
    print(f"owslib conformance ok: {len(ids)} collections")


if __name__ == "__main__":
    main()
