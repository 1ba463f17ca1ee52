#!/usr/bin/env bash
# `make demo`: a seeded reference back office on loopback, the kiosk on the demo profile
# enrolled with it and synced, `kiosk doctor` on the simulated devices, every receipt
# rendered to PNG; then the touchscreen in a window if there is a display, or else the
# scripted customer tour under Xvfb writing a screenshot of every screen in both
# languages. Everything lands in demo-output/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
OUT=demo-output
export KIOSK_DEMO_DIR="$PWD/$OUT/store"
PORT=${DEMO_PORT:-8765}
DB="sqlite:///$PWD/$OUT/backoffice.db"
# DEMO_LOCKERS=cu16, cu48, modbus or pico: the lockers on that backend's simulator (demo-cu16…)
PROFILE=demo${DEMO_LOCKERS:+-$DEMO_LOCKERS}
K() { echo "\$ kiosk --config $PROFILE $*"; $PY -m kiosk --config "$PROFILE" "$@"; }

rm -rf "$OUT" && mkdir -p "$OUT"
echo "== back office: seeding demo data"
$PY -m backoffice --db "$DB" seed --demo | tee "$OUT/seed.txt"
CODE=$(awk '/enrolment_code/ {print $2}' "$OUT/seed.txt")
$PY -m backoffice --db "$DB" serve --port "$PORT" --admin-token-file "$OUT/admin.token" \
    > "$OUT/backoffice.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    $PY -c "import httpx,sys; httpx.get('http://127.0.0.1:$PORT/v1/health').raise_for_status()" \
        2>/dev/null && break
    sleep 0.2
done

echo "== kiosk: enrol, record a few drop-offs, sync"
K enroll "http://127.0.0.1:$PORT" "$CODE"
K demo seed --customers 5
echo "== staff mode: three taps in the attract screen's top-left corner, then a PIN"
echo 1111 | K staff add s1 Sam --role staff --card STAFF-0001 --pin-stdin
echo 2222 | K staff add t1 Tess --role technician --pin-stdin
echo 3333 | K staff add m1 Maud --role manager --pin-stdin
K sync now
K sync status
K store check
echo "== devices (simulated): status, a test page, a locker"
K doctor --print-test --open-locker 1
echo "== the same lockers on every backend's simulator: GPIO, KR-CU16, KR-CU48 and Modbus boards, the co-processor's firmware"
for profile in demo demo-cu16 demo-cu48 demo-modbus demo-pico; do
    echo "\$ kiosk --config $profile doctor --open-locker 2"
    $PY -m kiosk --config "$profile" doctor --open-locker 2 | grep -E "^lockers|^locker |^KR-CU"
done
echo "== receipts"
K demo receipts "$OUT/receipts"
echo "== what to type at the screen (also in $OUT/guide.txt)"
K demo guide | tee "$OUT/guide.txt"
echo "staff mode: three taps in the attract screen's top-left corner; PINs 1111 (Sam, staff), 2222 (Tess, technician), 3333 (Maud, manager)"
if [ -n "${DISPLAY:-}" ] && [ -z "${DEMO_TOUR:-}" ]; then
    echo "== the kiosk, in a window (close it to finish)"
    K run --size 1024x600
else
    echo "== no display: the scripted customer tour under Xvfb, every screen in both languages"
    TOUR="$OUT/tour"
    export KIOSK_DEMO_DIR="$PWD/$OUT/tour-store"
    if command -v xvfb-run >/dev/null; then
        xvfb-run -a -s "-screen 0 1280x800x24" $PY -m tours.play tour --config "$PROFILE" --size 1024x600 --out "$TOUR"
    else
        SDL_VIDEODRIVER=offscreen $PY -m tours.play tour --config "$PROFILE" --size 1024x600 --out "$TOUR"
    fi
    echo "== screenshots: $TOUR/ ($(ls "$TOUR" | grep -c png) screens)"
fi
echo "== receipt images: $OUT/receipts/, printed pages: $OUT/store/printed/"
