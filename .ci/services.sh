# Sourced by .ci/run: start PostgreSQL and Redis on loopback for the distributed-mode tests.
apt-get install -y -qq redis-server postgresql >/dev/null
redis-cli -p 6390 ping >/dev/null 2>&1 || redis-server --port 6390 --bind 127.0.0.1 --daemonize yes --save "" --appendonly no
pg_version=$(ls /usr/lib/postgresql | sort -n | tail -1)
pg_ctlcluster "$pg_version" main start || true
for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
su postgres -c "psql -q -c \"DO \\\$\\\$ BEGIN CREATE ROLE avatar LOGIN SUPERUSER PASSWORD 'avatar'; EXCEPTION WHEN duplicate_object THEN NULL; END \\\$\\\$;\""
export AVATAR_TEST_POSTGRES_URL=postgres://avatar:avatar@127.0.0.1:5432/postgres
export AVATAR_TEST_REDIS_URL=redis://127.0.0.1:6390/0
