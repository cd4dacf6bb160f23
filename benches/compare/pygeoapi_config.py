"""Write a minimal pygeoapi configuration serving one GeoJSON file as `lsoa`.

    python pygeoapi_config.py CONFIG_PATH PORT GEOJSON_PATH
"""
import sys

import yaml

path, port, data = sys.argv[1], int(sys.argv[2]), sys.argv[3]
url = f"http://127.0.0.1:{port}"
contact = {k: "n/a" for k in ("name", "position", "address", "city", "stateorprovince",
                              "postalcode", "country", "phone", "fax", "email", "hours",
                              "instructions")}
contact.update({"url": url, "role": "pointOfContact"})
config = {
    "server": {
        "bind": {"host": "127.0.0.1", "port": port},
        "url": url,
        "mimetype": "application/json; charset=UTF-8",
        "encoding": "utf-8",
        # Compress for clients that ask (as browsers and QGIS do): the
        # comparison with browser headers is then like for like.
        "gzip": True,
        "languages": ["en-US"],
        "limits": {"default_items": 10, "max_items": 10000},
        "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "attribution": "OpenStreetMap"},
    },
    "logging": {"level": "ERROR"},
    "metadata": {
        "identification": {"title": "GapMap comparison", "description": "benchmark",
                           "keywords": ["lsoa"], "keywords_type": "theme",
                           "terms_of_service": url, "url": url},
        "license": {"name": "OGL-UK-3.0", "url": url},
        "provider": {"name": "benchmark", "url": url},
        "contact": contact,
    },
    "resources": {
        "lsoa": {
            "type": "collection",
            "title": "LSOA 2021 with IMD 2025 (exported from GapMap)",
            "description": "LSOA 2021 with IMD 2025",
            "keywords": ["lsoa"],
            "extents": {"spatial": {"bbox": [-6.5, 49.8, 2.0, 55.9],
                                    "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
            "providers": [{"type": "feature", "name": "GeoJSON", "data": data,
                           "id_field": "code"}],
        }
    },
}
with open(path, "w") as f:
    yaml.safe_dump(config, f, sort_keys=False)
