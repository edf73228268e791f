#!/usr/bin/env bash
# What PostgreSQL alone spends on the unary create's statements, with no service in the way.
# usage: bench/create-statements.sh            (about a minute; prints a small table)
#
# A throwaway PostgreSQL (fsync on, as in ./build.sh bench) gets PostsService's migrations and 32 users, each the
# owner of a workspace with one WhatsApp channel. pgbench then replays a group commit as CreatePostBatcher writes it:
# the group's users set for row-level security, the channels' read (PostInserts.LoadChannelsAsync) and the insert
# (PostInserts.InsertSql), then COMMIT; each group of K posts is K users' posts, one each. The statements are
# copied from PostInserts with literal values for its parameters: when those change, change them here too
# (tests/PostsService.Tests/CreateStatementsScriptTests.cs fails until the copy matches again).
#
# It prints PostgreSQL's own CPU (its postmaster and every backend, from /proc) per group for groups of 1, 8 and 32
# posts from one client, the straight line through them (a fixed cost per group commit and a cost per post), and the
# posts a second that PostgreSQL alone reaches with four writers of groups of 8, beside its single-row INSERT rate
# (pgbench, 32 clients, as the benchmark's yardstick). docs/scale.md says what the figures mean for issue 12.
set -euo pipefail
cd "$(dirname "$0")/.."

bin_dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -x "${bin_dir:-/nonexistent}/pgbench" ] || { echo "PostgreSQL's binaries are missing: run ./build.sh bench once, or apt-get install postgresql" >&2; exit 1; }
export PATH="$bin_dir:$PATH"

port=${CREATE_STATEMENTS_PORT:-25990}
data_dir=$(mktemp -d /tmp/socialsync-create-statements.XXXXXX)
scripts=$(mktemp -d /tmp/socialsync-create-statements-sql.XXXXXX)
# postgres.sh runs the server as the postgres user when started as root: it must reach its data folder.
chmod 755 "$data_dir"
chmod 755 "$scripts"
export POSTGRES_PASSWORD=create-statements PGPASSWORD=create-statements
bash SocialSync.AppHost/scripts/postgres.sh "$data_dir/pg" "$port" postsdb > "$data_dir/postgres.log" 2>&1 &
server=$!
trap 'kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$data_dir" "$scripts"' EXIT
until grep -q "postgres ready" "$data_dir/postgres.log" 2>/dev/null; do
  kill -0 "$server" 2>/dev/null || { cat "$data_dir/postgres.log" >&2; exit 1; }
  sleep 0.2
done

psql_as() { local user=$1; shift; psql -X -q -h 127.0.0.1 -p "$port" -U "$user" -d postsdb -v ON_ERROR_STOP=1 "$@"; }
for migration in PostsService/Data/Migrations/*.sql; do
  psql_as postgres -1 -f "$migration" > /dev/null
done
psql_as postgres <<'SQL'
alter role socialsync_app with login password 'create-statements';
create table bench_users (n int primary key, id uuid not null, workspace uuid not null, channel uuid not null);
insert into bench_users select g, gen_random_uuid(), gen_random_uuid(), gen_random_uuid() from generate_series(0, 31) g;
insert into workspaces (id, name, created_by) select workspace, 'workspace ' || n, id from bench_users;
insert into workspace_members (workspace_id, user_id, role) select workspace, id, 'owner' from bench_users;
insert into channels (id, user_id, platform, account_id, access_token_encrypted, workspace_id)
    select channel, id, 'whatsapp', '1000' || n, '\x00', workspace from bench_users;
create table bench_raw_inserts (id uuid primary key default gen_random_uuid(), payload jsonb not null, created_at timestamptz not null default now());
SQL

# The same value K times, as the inside of an array literal (K is the caller's $size).
repeat() { local value=$1 out=() i; for ((i = 0; i < size; i++)); do out+=("$value"); done; (IFS=,; echo "${out[*]}"); }

# One script per group of K users (users n, n + 32/K, ...): a group commit of K posts, with fresh ids and request ids.
write_group_scripts() {
  local size=$1 groups=$((32 / $1)) g
  for ((g = 0; g < groups; g++)); do
    mapfile -t rows < <(psql_as postgres -At -F ' ' -c "select n, id, workspace, channel from bench_users where n % $groups = $g order by n")
    local ords=() users=() workspaces=() channels=()
    for row in "${rows[@]}"; do
      read -r n user workspace channel <<< "$row"
      ords+=("$n"); users+=("$user"); workspaces+=("$workspace"); channels+=("$channel")
    done
    local u w c o
    u=$(IFS=,; echo "${users[*]}"); w=$(IFS=,; echo "${workspaces[*]}"); c=$(IFS=,; echo "${channels[*]}"); o=$(IFS=,; echo "${ords[*]}")
    cat > "$scripts/group-$size-$g.sql" <<SQL
BEGIN;
select set_config('app.batch_user_ids', '{$u}', true);
select c.id, c.platform, c.account_id, c.display_name, c.settings::text, c.state, c.state_reason, c.created_at, c.updated_at, c.version, c.token_expires_at, c.token_expiring_reason, c.workspace_id, m.role, m.requires_approval, p.ord
  from unnest('{$o}'::int[], '{$u}'::uuid[], '{$c}'::uuid[]) as p(ord, poster, channel)
  join channels c on c.id = p.channel and c.deleted_at is null
  join app_batch_memberships() m on m.workspace = c.workspace_id and m.member = p.poster
  for share of c;
insert into scheduled_posts (id, user_id, workspace_id, status, needs_approval, submitted_by, channel_id, platform, content_json, publish_at, due_at, time_zone, rrule, request_id, request_hash, traceparent, recipients)
  select p.id, p.user_id, p.workspace_id, p.status, p.needs_approval, case when p.status = 'pending_approval' then p.user_id end,
      p.channel_id, p.platform, p.content::jsonb, p.publish_at, p.publish_at, p.time_zone, p.rrule, p.request_id, p.request_hash, p.traceparent,
      case when p.recipients is not null then array(select jsonb_array_elements_text(p.recipients::jsonb)) end
  from unnest(array(select gen_random_uuid() from generate_series(1, $size)), '{$u}'::uuid[], '{$c}'::uuid[], '{$(repeat whatsapp)}'::text[],
              array(select '{"text": "A post of the benchmark''s usual length, about sixty characters."}' from generate_series(1, $size)),
              array(select now() + interval '1 day' from generate_series(1, $size)), '{$(repeat NULL)}'::text[], '{$(repeat NULL)}'::text[],
              array(select gen_random_uuid()::text from generate_series(1, $size)), '{$(repeat 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01)}'::text[],
              array(select sha256(gen_random_uuid()::text::bytea) from generate_series(1, $size)), '{$(repeat NULL)}'::text[], '{$w}'::uuid[],
              '{$(repeat queued)}'::text[], '{$(repeat false)}'::boolean[])
      as p(id, user_id, channel_id, platform, content, publish_at, time_zone, rrule, request_id, traceparent, request_hash, recipients, workspace_id, status, needs_approval)
  on conflict (user_id, request_id) where request_id is not null do nothing
  returning id, channel_id, platform, content_json::text, publish_at, time_zone, rrule, status, platform_post_id, error_message, retry_count, created_at, updated_at, published_at, permalink, version, coalesce(series_id, case when rrule is not null then id end), recipients, workspace_id, user_id, needs_approval, approved_by, review_comment;
COMMIT;
SQL
  done
}
for size in 1 8 32; do write_group_scripts "$size"; done
echo "insert into bench_raw_inserts (payload) values ('{\"text\":\"raw insert\"}');" > "$scripts/raw-insert.sql"

postmaster=$(head -n 1 "$data_dir/pg/postmaster.pid")
# PostgreSQL's CPU in clock ticks: the postmaster's own and its reaped children's, and its live children's.
postgres_ticks() {
  local total=0 pid fields
  for pid in /proc/[0-9]*; do
    fields=$(sed 's/^.*) //' "$pid/stat" 2>/dev/null) || continue
    set -- $fields
    if [ "${pid#/proc/}" = "$postmaster" ]; then total=$((total + ${12} + ${13} + ${14} + ${15}));
    elif [ "$2" = "$postmaster" ]; then total=$((total + ${12} + ${13})); fi
  done
  echo "$total"
}
ticks_per_second=$(getconf CLK_TCK)

# run USER CLIENTS SECONDS SCRIPTS... -> "transactions ticks tps"
run() {
  local user=$1 clients=$2 seconds=$3; shift 3
  local files=() f before after output
  for f in "$@"; do files+=(-f "$f"); done
  psql_as postgres -c "set client_min_messages = warning" -c "truncate scheduled_posts, post_changes, schedule_outbox, bench_raw_inserts cascade" -c checkpoint > /dev/null
  before=$(postgres_ticks)
  output=$(pgbench -h 127.0.0.1 -p "$port" -U "$user" -n -M prepared -c "$clients" -j "$(( clients < 2 ? 1 : 2 ))" -T "$seconds" "${files[@]}" postsdb 2>&1) \
    || { echo "$output" >&2; exit 1; }
  sleep 0.5
  after=$(postgres_ticks)
  echo "$(grep -oP 'actually processed: \K[0-9]+' <<< "$output") $((after - before)) $(grep -oP '^tps = \K[0-9.]+' <<< "$output")"
}

echo "| what pgbench replayed | PostgreSQL's CPU per group commit | per post |"
echo "|---|---|---|"
declare -A per_group
for size in 1 8 32; do
  read -r transactions ticks _ < <(run socialsync_app 1 8 "$scripts"/group-"$size"-*.sql)
  per_group[$size]=$(awk -v t="$ticks" -v n="$transactions" -v hz="$ticks_per_second" 'BEGIN { printf "%.3f", t * 1000 / hz / n }')
  echo "| groups of $size, one client | ${per_group[$size]} ms | $(awk -v g="${per_group[$size]}" -v k="$size" 'BEGIN { printf "%.3f", g / k }') ms |"
done
read -r fixed per_post < <(awk -v a="${per_group[1]}" -v b="${per_group[8]}" -v c="${per_group[32]}" 'BEGIN {
  mx = (1 + 8 + 32) / 3; my = (a + b + c) / 3
  slope = ((1 - mx) * (a - my) + (8 - mx) * (b - my) + (32 - mx) * (c - my)) / ((1 - mx)^2 + (8 - mx)^2 + (32 - mx)^2)
  printf "%.3f %.4f\n", my - slope * mx, slope }')
echo "| the line through them | $fixed ms a group commit | + $per_post ms a post |"

read -r transactions ticks _ < <(run socialsync_app 4 10 "$scripts"/group-8-*.sql)
posts_per_second=$(awk -v n="$transactions" 'BEGIN { printf "%.0f", n * 8 / 10 }')
cpu_per_post=$(awk -v t="$ticks" -v n="$transactions" -v hz="$ticks_per_second" 'BEGIN { printf "%.3f", t * 1000 / hz / (n * 8) }')
read -r _ _ inserts < <(run postgres 32 10 "$scripts/raw-insert.sql")
echo
echo "groups of 8 from four writers (CreatePostBatcher's default), PostgreSQL alone: $posts_per_second posts/s, its CPU $cpu_per_post ms a post"
echo "single-row INSERT commits (pgbench, 32 clients): ${inserts%.*}/s; ratio $(awk -v p="$posts_per_second" -v i="$inserts" 'BEGIN { printf "%.2f", p / i }')"
