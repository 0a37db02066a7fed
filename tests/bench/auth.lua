-- wrk script: authenticated GET with the bearer token from the BENCH_TOKEN environment variable.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
