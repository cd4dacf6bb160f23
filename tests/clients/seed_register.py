"""Creates a few register entries on a running GapMap server, through its
OGC API - Features Part 4 POST, so that client tests see the writable
`register` collection with features in it (names with non-ASCII letters,
several categories, some optional fields missing). Usage:

    python3 seed_register.py http://127.0.0.1:PORT/ EDITOR_TOKEN

Prints the created ids; exits non-zero if a POST is not a 201.
"""

import json
import sys
import urllib.request

ENTRIES = [
    ("Straße Café warm space", "warm_space", (-1.2577, 51.7520), {"capacity": 40, "description": "Tea, Wi-Fi"}),
    ("Cowley Road food bank", "food_bank", (-1.2301, 51.7456), {"capacity": 12}),
    ("Banbury O'Neill library corner", "library", (-1.3398, 52.0629), {}),
    ("Ysgol Llŷn youth club", "youth_club", (-1.2806, 51.6108), {"capacity": 25}),
    ("Witney walking group", "walking_group", (-1.4858, 51.7850), {"description": "Sundays 10:00"}),
    ("Didcot community larder", "community_larder", (-1.2446, 51.6080), {"capacity": 8}),
    ("Thame social group", "social_group", (-0.9758, 51.7471), {}),
]


def main() -> None:
    url, token = sys.argv[1].rstrip("/"), sys.argv[2]
    for name, category, (lon, lat), extra in ENTRIES:
        body = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"name": name, "category": category, **extra},
        }
        req = urllib.request.Request(
            f"{url}/collections/register/items",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/geo+json", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(req) as r:
            assert r.status == 201, (name, r.status)
            print(json.load(r)["id"])


if __name__ == "__main__":
    main()
