-- Each rain gauge's rain per clock hour (hour = observed_at / 3,600,000,000), kept as its
-- readings are stored, so the warnings read a few sums per gauge however often it reports.
CREATE TABLE safety_rain_hours (
    station_id TEXT NOT NULL REFERENCES safety_stations(id),
    hour BIGINT NOT NULL,
    rain DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (station_id, hour)
);

INSERT INTO safety_rain_hours (station_id, hour, rain)
SELECT o.station_id, o.observed_at / 3600000000, SUM(o.value)
FROM safety_observations o JOIN safety_stations s ON s.id = o.station_id
WHERE s.kind = 'rain_gauge'
GROUP BY o.station_id, o.observed_at / 3600000000;
