-- Each region's area on the map: a GeoJSON Polygon or MultiPolygon (WGS 84, as imported).
CREATE TABLE safety_areas (
    region_code TEXT PRIMARY KEY REFERENCES regions(code),
    geometry TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
