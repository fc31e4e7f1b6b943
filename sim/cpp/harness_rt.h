// lutforge simulation harness runtime (see docs/sim.md for the protocol).
// Included by the generated per-design main (sim/harness.ts), which first defines `Top`, `LF_DESIGN`,
// lf_clock/lf_reset, and then the port tables declared extern below.
#pragma once
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include <unistd.h>
#include "verilated.h"
#ifdef LF_TRACE
#include "verilated_fst_c.h"
#endif

namespace lf {

struct InDesc {
  const char* name;
  int nl;  // 32-bit limbs per beat
  void (*drive)(Top*, const uint32_t*, bool last);
  void (*valid)(Top*, bool);
  bool (*ready)(Top*);
};
struct OutDesc {
  const char* name;
  int nl;
  bool (*valid)(Top*);
  void (*ready)(Top*, bool);
  void (*data)(Top*, uint32_t*);
  bool (*last)(Top*);
};
struct PortDesc {
  const char* name;
  int nl;
  bool is_input;
  void (*set)(Top*, const uint32_t*);
  void (*get)(Top*, uint32_t*);
};

}  // namespace lf

extern const lf::InDesc LF_IN[];
extern const int LF_NIN;
extern const lf::OutDesc LF_OUT[];
extern const int LF_NOUT;
extern const lf::PortDesc LF_PORTS[];
extern const int LF_NPORTS;
static void lf_clock(Top* t, bool v);
static void lf_reset(Top* t, bool v);

namespace lf {

static int g_data_fd = 1;

// ---- binary output (little-endian), flushed when large or before blocking on stdin
static std::vector<uint8_t> g_out;
static void flush_out() {
  size_t off = 0;
  while (off < g_out.size()) {
    ssize_t w = ::write(g_data_fd, g_out.data() + off, g_out.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      _exit(5);  // Node went away: nothing useful left to do
    }
    off += (size_t)w;
  }
  g_out.clear();
}
static inline void put(const void* p, size_t n) {
  const uint8_t* b = (const uint8_t*)p;
  g_out.insert(g_out.end(), b, b + n);
}
static inline void put8(uint8_t v) { g_out.push_back(v); }
static inline void put16(uint16_t v) { put(&v, 2); }
static inline void put32(uint32_t v) { put(&v, 4); }
static inline void put64(uint64_t v) { put(&v, 8); }

[[noreturn]] static void fail(int code, const std::string& msg) {
  put8(6);
  put32((uint32_t)msg.size());
  put(msg.data(), msg.size());
  flush_out();
  fflush(stdout);
  fflush(stderr);
  _exit(code);
}

// ---- buffered stdin reader
struct Reader {
  std::vector<uint8_t> buf = std::vector<uint8_t>(1 << 20);
  size_t pos = 0, end = 0;
  bool more() {  // at least one byte available, blocking; false on EOF
    if (pos < end) return true;
    pos = end = 0;
    for (;;) {
      ssize_t r = ::read(0, buf.data(), buf.size());
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      end = (size_t)r;
      return true;
    }
  }
  void exact(void* dst, size_t n) {
    uint8_t* d = (uint8_t*)dst;
    while (n > 0) {
      if (!more()) fail(2, "protocol: stdin closed in the middle of a command");
      size_t k = end - pos < n ? end - pos : n;
      memcpy(d, buf.data() + pos, k);
      pos += k;
      d += k;
      n -= k;
    }
  }
  uint8_t u8() { uint8_t v; exact(&v, 1); return v; }
  uint16_t u16() { uint16_t v; exact(&v, 2); return v; }
  uint32_t u32() { uint32_t v; exact(&v, 4); return v; }
  uint64_t u64() { uint64_t v; exact(&v, 8); return v; }
};

static inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
// xorshift64*: upper 32 bits compared against the stall threshold.
static inline uint32_t rnd32(uint64_t& s) {
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return (uint32_t)((s * 0x2545F4914F6CDD1Dull) >> 32);
}

struct InState {
  std::vector<uint32_t> q;  // pending beats, nl limbs each
  std::vector<uint8_t> ql;  // last flag per pending beat
  size_t head = 0;          // beats already taken from the front of q/ql
  bool open = false;        // Node promised more beats (PUSH with 'more')
  bool valid = false;       // valid currently raised (held until transfer)
  uint32_t thr = 0;         // stall threshold: withhold valid when rnd < thr
  uint64_t rng = 0;
  uint64_t beats = 0;
  int64_t first = -1, last = -1;
  size_t pending() const { return ql.size() - head; }
};
struct OutState {
  bool ready = false;
  uint32_t thr = 0;
  uint64_t rng = 0;
  uint64_t beats = 0, expected = 0;
  int64_t first = -1, last = -1;
};

struct Sim {
  VerilatedContext* ctx;
  Top* top;
  std::vector<InState> in;
  std::vector<OutState> out;
  std::vector<uint32_t> scratch;
  uint64_t cycle = 0, last_progress = 0;
  uint64_t max_cycles = 100000000ull, idle_cycles = 1000000ull;
  int reset_cycles = 4;
  bool was_reset = false, stamp_inputs = false;
  uint64_t tick = 0;  // trace time
#ifdef LF_TRACE
  VerilatedFstC* tfp = nullptr;
  bool tracing = false;
#endif

  void dump() {
#ifdef LF_TRACE
    if (tfp && tracing) tfp->dump(tick);
#endif
    tick += 5;
  }
  void check_finish() {
    if (ctx->gotFinish()) fail(4, "design called $finish at cycle " + std::to_string(cycle));
  }
  void do_reset() {
    was_reset = true;
    lf_reset(top, true);
    for (int i = 0; i < reset_cycles; i++) {
      lf_clock(top, false);
      top->eval();
      dump();
      lf_clock(top, true);
      top->eval();
      dump();
    }
    lf_reset(top, false);
    cycle = 0;
    last_progress = 0;
  }

  inline void step() {
    // Drive harness-side signals for this cycle.
    for (int i = 0; i < LF_NIN; i++) {
      InState& s = in[i];
      if (!s.valid && s.pending() > 0 && (s.thr == 0 || rnd32(s.rng) >= s.thr)) {
        const InDesc& d = LF_IN[i];
        d.drive(top, &s.q[s.head * d.nl], s.ql[s.head] != 0);
        d.valid(top, true);
        s.valid = true;
      }
    }
    for (int i = 0; i < LF_NOUT; i++) {
      OutState& s = out[i];
      bool r = s.thr == 0 || rnd32(s.rng) >= s.thr;
      if (r != s.ready) {
        LF_OUT[i].ready(top, r);
        s.ready = r;
      }
    }
    lf_clock(top, false);
    top->eval();
    dump();
    // Sample handshakes before the edge.
    for (int i = 0; i < LF_NIN; i++) {
      InState& s = in[i];
      if (s.valid && LF_IN[i].ready(top)) {
        s.valid = false;  // the pin drops after the edge, below
        s.head++;
        s.beats++;
        if (s.first < 0) s.first = (int64_t)cycle;
        s.last = (int64_t)cycle;
        last_progress = cycle;
        if (stamp_inputs) {
          put8(2);
          put16((uint16_t)i);
          put64(cycle);
        }
        if (s.head >= 4096 && s.head * 2 >= s.ql.size()) compact(i);
      }
    }
    for (int i = 0; i < LF_NOUT; i++) {
      OutState& s = out[i];
      const OutDesc& d = LF_OUT[i];
      if (s.ready && d.valid(top)) {
        d.data(top, scratch.data());
        put8(1);
        put16((uint16_t)i);
        put8(d.last ? (uint8_t)d.last(top) : 0);
        put64(cycle);
        put(scratch.data(), (size_t)d.nl * 4);
        s.beats++;
        if (s.first < 0) s.first = (int64_t)cycle;
        s.last = (int64_t)cycle;
        last_progress = cycle;
      }
    }
    lf_clock(top, true);
    top->eval();
    dump();
    cycle++;
    // Drop valid after a transfer; the next step() re-raises it if data is pending.
    for (int i = 0; i < LF_NIN; i++)
      if (!in[i].valid) LF_IN[i].valid(top, false);
    if (g_out.size() > (1u << 20)) flush_out();
  }

  void compact(int i) {
    InState& s = in[i];
    int nl = LF_IN[i].nl;
    s.q.erase(s.q.begin(), s.q.begin() + (ptrdiff_t)(s.head * nl));
    s.ql.erase(s.ql.begin(), s.ql.begin() + (ptrdiff_t)s.head);
    s.head = 0;
  }

  bool goal_met() const {
    for (int i = 0; i < LF_NIN; i++)
      if (in[i].valid || in[i].pending() > 0) return false;
    for (int i = 0; i < LF_NOUT; i++)
      if (out[i].beats < out[i].expected) return false;
    return true;
  }
  int starved_open() const {
    for (int i = 0; i < LF_NIN; i++)
      if (in[i].open && !in[i].valid && in[i].pending() == 0) return i;
    return -1;
  }

  std::string stuck_report() {
    std::string m;
    for (int i = 0; i < LF_NIN; i++) {
      const InState& s = in[i];
      if (s.valid || s.pending() > 0)
        m += "; input stream '" + std::string(LF_IN[i].name) + "': " + std::to_string(s.pending()) +
             " beat(s) not consumed (" + std::to_string(s.beats) + " transferred), valid=" + (s.valid ? "1" : "0") +
             " ready=" + (LF_IN[i].ready(top) ? "1" : "0");
    }
    for (int i = 0; i < LF_NOUT; i++) {
      const OutState& s = out[i];
      if (s.beats < s.expected)
        m += "; output stream '" + std::string(LF_OUT[i].name) + "': expected " + std::to_string(s.expected) +
             " beat(s), received " + std::to_string(s.beats) + ", valid=" + (LF_OUT[i].valid(top) ? "1" : "0");
    }
    for (int i = 0; i < LF_NIN; i++)
      if (!in[i].valid && in[i].pending() == 0 && in[i].beats == 0)
        m += "; input stream '" + std::string(LF_IN[i].name) + "' never received data";
    return m;
  }

  void run(uint64_t limit_cycles) {
    if (!was_reset) do_reset();
    uint64_t stop_at = limit_cycles ? cycle + limit_cycles : 0;
    int reason = 0, sid = 0xffff;
    last_progress = cycle;
    for (;;) {
      if (stop_at) {
        if (cycle >= stop_at) break;
      } else {
        if (goal_met()) break;
        int s = starved_open();
        if (s >= 0) {
          reason = 1;
          sid = s;
          break;
        }
        if (cycle - last_progress >= idle_cycles)
          fail(3, std::string("watchdog: no stream transfer for ") + std::to_string(idle_cycles) +
                      " cycles, at cycle " + std::to_string(cycle) + stuck_report());
      }
      if (cycle >= max_cycles)
        fail(3, "watchdog: maxCycles (" + std::to_string(max_cycles) + ") reached at cycle " +
                    std::to_string(cycle) + stuck_report());
      step();
      check_finish();
    }
    put8(3);
    put8((uint8_t)reason);
    put16((uint16_t)sid);
    put64(cycle);
  }

  void stats() {
    put8(5);
    put64(cycle);
    for (int i = 0; i < LF_NIN; i++) {
      put64(in[i].beats);
      put64((uint64_t)in[i].first);
      put64((uint64_t)in[i].last);
    }
    for (int i = 0; i < LF_NOUT; i++) {
      put64(out[i].beats);
      put64((uint64_t)out[i].first);
      put64((uint64_t)out[i].last);
    }
  }
};

static uint16_t check_id(uint16_t id, int n, const char* what) {
  if ((int)id >= n) fail(2, std::string("protocol: bad ") + what + " id " + std::to_string(id));
  return id;
}

static int main_loop(int argc, char** argv) {
  // Keep the data channel private: Verilator's $display/printf go to stdout, so point fd 1 at stderr.
  g_data_fd = dup(1);
  dup2(2, 1);
  g_out.reserve(1 << 21);

  uint64_t seed = 1;
  const char* trace_path = nullptr;
  Sim sim;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--seed" && v) seed = strtoull(argv[++i], nullptr, 10);
    else if (a == "--reset-cycles" && v) sim.reset_cycles = atoi(argv[++i]);
    else if (a == "--max-cycles" && v) sim.max_cycles = strtoull(argv[++i], nullptr, 10);
    else if (a == "--idle-cycles" && v) sim.idle_cycles = strtoull(argv[++i], nullptr, 10);
    else if (a == "--stamp-inputs") sim.stamp_inputs = true;
    else if (a == "--trace" && v) trace_path = argv[++i];
    else fail(2, "usage: unknown argument " + a);
  }

  sim.ctx = new VerilatedContext;
  sim.ctx->commandArgs(0, (const char**)nullptr);
#ifdef LF_TRACE
  sim.ctx->traceEverOn(true);
#endif
  sim.top = new Top{sim.ctx};
  sim.in.resize(LF_NIN);
  sim.out.resize(LF_NOUT);
  int maxnl = 1;
  for (int i = 0; i < LF_NOUT; i++) maxnl = LF_OUT[i].nl > maxnl ? LF_OUT[i].nl : maxnl;
  for (int i = 0; i < LF_NPORTS; i++) maxnl = LF_PORTS[i].nl > maxnl ? LF_PORTS[i].nl : maxnl;
  sim.scratch.resize((size_t)maxnl);
  for (int i = 0; i < LF_NIN; i++) {
    uint64_t x = seed ^ (0x1000ull + (uint64_t)i) * 0x9E3779B97F4A7C15ull;
    sim.in[i].rng = splitmix64(x) | 1;
    LF_IN[i].valid(sim.top, false);
  }
  for (int i = 0; i < LF_NOUT; i++) {
    uint64_t x = seed ^ (0x2000ull + (uint64_t)i) * 0x9E3779B97F4A7C15ull;
    sim.out[i].rng = splitmix64(x) | 1;
    LF_OUT[i].ready(sim.top, false);
  }
  lf_clock(sim.top, false);
  lf_reset(sim.top, true);
  if (trace_path) {
#ifdef LF_TRACE
    sim.tfp = new VerilatedFstC;
    sim.top->trace(sim.tfp, 99);
    sim.tfp->open(trace_path);
    sim.tracing = true;
#else
    fail(2, "this simulator was built without tracing; build with trace: true");
#endif
  }
  sim.top->eval();

  Reader r;
  for (;;) {
    if (r.pos == r.end) flush_out();  // about to block: let Node see everything so far
    if (!r.more()) break;             // Node closed stdin: quiet exit
    uint8_t op = r.u8();
    switch (op) {
      case 'S': {
        uint16_t id = check_id(r.u16(), LF_NPORTS, "port");
        r.exact(sim.scratch.data(), (size_t)LF_PORTS[id].nl * 4);
        if (!LF_PORTS[id].is_input) fail(2, std::string("protocol: port ") + LF_PORTS[id].name + " is not an input");
        LF_PORTS[id].set(sim.top, sim.scratch.data());
        break;
      }
      case 'P': {
        uint16_t id = check_id(r.u16(), LF_NIN, "input stream");
        uint8_t flags = r.u8();
        uint32_t n = r.u32();
        InState& s = sim.in[id];
        int nl = LF_IN[id].nl;
        size_t at = s.q.size();
        s.q.resize(at + (size_t)n * nl);
        r.exact(&s.q[at], (size_t)n * nl * 4);
        size_t lat = s.ql.size();
        s.ql.resize(lat + n, 0);
        if (flags & 2) r.exact(&s.ql[lat], n);
        s.open = (flags & 1) != 0;
        break;
      }
      case 'E': {
        uint16_t id = check_id(r.u16(), LF_NOUT, "output stream");
        sim.out[id].expected = r.u64();
        break;
      }
      case 'R': sim.run(0); break;
      case 'N': {
        uint64_t n = r.u64();
        sim.run(n == 0 ? 0 : n);
        break;
      }
      case 'G': {
        uint16_t id = check_id(r.u16(), LF_NPORTS, "port");
        sim.top->eval();
        LF_PORTS[id].get(sim.top, sim.scratch.data());
        put8(4);
        put16(id);
        put(sim.scratch.data(), (size_t)LF_PORTS[id].nl * 4);
        break;
      }
      case 'T': {
        uint8_t kind = r.u8();
        uint16_t id = r.u16();
        uint32_t thr = r.u32();
        if (kind == 0) sim.in[check_id(id, LF_NIN, "input stream")].thr = thr;
        else sim.out[check_id(id, LF_NOUT, "output stream")].thr = thr;
        break;
      }
      case 'W': {
        uint8_t on = r.u8();
#ifdef LF_TRACE
        if (sim.tfp) sim.tracing = on != 0;
#else
        (void)on;
#endif
        break;
      }
      case 'Q': sim.stats(); break;
      case 'F': {
        sim.stats();
#ifdef LF_TRACE
        if (sim.tfp) sim.tfp->close();
#endif
        sim.top->final();
        flush_out();
        fflush(stdout);
        return 0;
      }
      default: fail(2, "protocol: unknown command byte " + std::to_string(op));
    }
  }
#ifdef LF_TRACE
  if (sim.tfp) sim.tfp->close();
#endif
  flush_out();
  return 0;
}

}  // namespace lf

int main(int argc, char** argv) { return lf::main_loop(argc, argv); }
