/*
 * Compiled hot loops of the simulation's frame path (optional: testbed.packets.speedups falls back to
 * the pure-Python code, which gives the same bytes; the tests compare the two).
 *
 * Why C here: a run's frames are mostly the segments of streaming sessions, and every frame is then
 * encoded as a pcapng block. Both loops do a few integer operations and a copy per frame, which the
 * interpreter turned into ~1.5 us of bytecode per frame (DESIGN.md, Speed: packet synthesis is ours).
 *
 * epb_encode(records, interface) -> (times, ends, blob)
 *     records: list of (ts_us, frame, comment or None), in capture order. Returns the frames' times as
 *     native int64s, the offset just past each block as native uint64s, and the Enhanced Packet Blocks
 *     (little-endian, as pcapng.EpbEncoder writes them).
 *
 * tcp_bulk(data, mss, cwnd, max_burst, t_us, ack_delay, turnaround, gap,
 *          s_template, s_ip_base, s_tcp_base, seq, snd_id,
 *          r_template, r_ip_base, r_tcp_base, rcv_seq, rcv_id)
 *     -> (frames, seq, snd_id, rcv_id, cwnd, t_done)
 *     The slow-start bursts and delayed ACKs of TcpSession._send: the same frames, in the same order.
 *     A template is a plain segment's 54 header bytes with the fields that vary left for this code.
 *
 * extend_labelled(pending, frames, label)
 *     Appends (ts_us, frame, label) to pending for each (ts_us, frame) of a step's frames.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define EPB_TYPE 6u
#define EPB_FIXED 32u /* type, total length, interface, ts high, ts low, two lengths; trailing total */
#define OPT_COMMENT 1u
#define MIN_FRAME 60
#define HEADERS 54 /* Ethernet, IPv4 and TCP headers of a segment without options */
#define ACK_FLAG 0x10u
#define PSH_FLAG 0x08u
#define MOD 0xFFFFu

static inline void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline void put_le16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static inline void put_be16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static inline void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* ------------------------------------------------------------------ pcapng blocks */

typedef struct {
    long long ts;
    const char *frame;
    Py_ssize_t length;
    const char *comment; /* NULL: no comment option */
    Py_ssize_t comment_length;
} Record;

static int read_record(PyObject *item, Py_ssize_t index, Record *r)
{
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 3) {
        PyErr_Format(PyExc_TypeError, "record %zd: expected a (ts_us, frame, comment) tuple", index);
        return -1;
    }
    r->ts = PyLong_AsLongLong(PyTuple_GET_ITEM(item, 0));
    if (r->ts == -1 && PyErr_Occurred())
        return -1;
    if (r->ts < 0) {
        PyErr_Format(PyExc_ValueError, "record %zd: a capture time is never negative, got %lld", index, r->ts);
        return -1;
    }
    PyObject *frame = PyTuple_GET_ITEM(item, 1);
    if (!PyBytes_Check(frame)) {
        PyErr_Format(PyExc_TypeError, "record %zd: the frame must be bytes, not %.100s", index,
                     Py_TYPE(frame)->tp_name);
        return -1;
    }
    r->frame = PyBytes_AS_STRING(frame);
    r->length = PyBytes_GET_SIZE(frame);
    PyObject *comment = PyTuple_GET_ITEM(item, 2);
    if (comment == Py_None) {
        r->comment = NULL;
        r->comment_length = 0;
    } else if (PyUnicode_Check(comment)) {
        r->comment = PyUnicode_AsUTF8AndSize(comment, &r->comment_length); /* cached in the str */
        if (r->comment == NULL)
            return -1;
        if (r->comment_length > 0xFFFF) {
            PyErr_Format(PyExc_ValueError, "record %zd: a comment has at most 65535 bytes, got %zd", index,
                         r->comment_length);
            return -1;
        }
    } else {
        PyErr_Format(PyExc_TypeError, "record %zd: the comment must be a str or None, not %.100s", index,
                     Py_TYPE(comment)->tp_name);
        return -1;
    }
    return 0;
}

static inline Py_ssize_t pad4(Py_ssize_t n) { return (4 - (n & 3)) & 3; }

static Py_ssize_t block_size(const Record *r)
{
    Py_ssize_t total = EPB_FIXED + r->length + pad4(r->length);
    if (r->comment != NULL)
        total += 4 + r->comment_length + pad4(r->comment_length) + 4; /* the option, end-of-options */
    return total;
}

static PyObject *epb_encode(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *records;
    unsigned int interface;
    if (!PyArg_ParseTuple(args, "O!I:epb_encode", &PyList_Type, &records, &interface))
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(records);
    /* First pass: read and check every record, and size the blob. The records cannot change before the
     * second pass: nothing in between runs Python code (bytes objects are not tracked by the cyclic GC,
     * so allocating them never starts a collection and its finalizers). */
    Record *rs = PyMem_Malloc(sizeof(Record) * (size_t)(count ? count : 1));
    if (rs == NULL)
        return PyErr_NoMemory();
    PyObject *times = NULL, *ends = NULL, *blob = NULL;
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (read_record(PyList_GET_ITEM(records, i), i, &rs[i]) < 0)
            goto fail;
        Py_ssize_t size = block_size(&rs[i]);
        if (size > 0xFFFFFFFFll) {
            PyErr_Format(PyExc_ValueError, "record %zd: a block of %zd bytes does not fit pcapng", i, size);
            goto fail;
        }
        total += size;
    }
    times = PyBytes_FromStringAndSize(NULL, count * (Py_ssize_t)sizeof(int64_t));
    ends = PyBytes_FromStringAndSize(NULL, count * (Py_ssize_t)sizeof(uint64_t));
    blob = PyBytes_FromStringAndSize(NULL, total);
    if (times == NULL || ends == NULL || blob == NULL)
        goto fail;
    int64_t *tp = (int64_t *)PyBytes_AS_STRING(times);
    uint64_t *ep = (uint64_t *)PyBytes_AS_STRING(ends);
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(blob);
    Py_ssize_t offset = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        const Record *r = &rs[i];
        uint32_t size = (uint32_t)block_size(r);
        unsigned char *p = out + offset;
        put_le32(p, EPB_TYPE);
        put_le32(p + 4, size);
        put_le32(p + 8, interface);
        put_le32(p + 12, (uint32_t)((unsigned long long)r->ts >> 32));
        put_le32(p + 16, (uint32_t)r->ts);
        put_le32(p + 20, (uint32_t)r->length);
        put_le32(p + 24, (uint32_t)r->length);
        p += 28;
        memcpy(p, r->frame, (size_t)r->length);
        p += r->length;
        Py_ssize_t fill = pad4(r->length);
        memset(p, 0, (size_t)fill);
        p += fill;
        if (r->comment != NULL) {
            put_le16(p, OPT_COMMENT);
            put_le16(p + 2, (uint32_t)r->comment_length);
            memcpy(p + 4, r->comment, (size_t)r->comment_length);
            p += 4 + r->comment_length;
            fill = pad4(r->comment_length);
            memset(p, 0, (size_t)fill + 4); /* the padding, then end-of-options (code 0, length 0) */
            p += fill + 4;
        }
        put_le32(p, size);
        offset += size;
        tp[i] = (int64_t)r->ts;
        ep[i] = (uint64_t)offset;
    }
    PyMem_Free(rs);
    return Py_BuildValue("(NNN)", times, ends, blob);

fail:
    PyMem_Free(rs);
    Py_XDECREF(times);
    Py_XDECREF(ends);
    Py_XDECREF(blob);
    return NULL;
}

/* ------------------------------------------------------------------ TCP bulk sends */

/* The payload read as big-endian 16-bit words (an odd last byte padded with zero), summed. */
static uint64_t word_sum(const unsigned char *p, Py_ssize_t n)
{
    uint64_t high = 0, low = 0; /* bytes at even offsets count 256 times, odd ones once */
    Py_ssize_t i = 0;
    for (; i + 1 < n; i += 2) {
        high += p[i];
        low += p[i + 1];
    }
    if (i < n)
        high += p[i];
    return (high << 8) + low;
}

static PyObject *frame_pair(long long t, PyObject *frame)
{
    if (frame == NULL)
        return NULL;
    PyObject *ts = PyLong_FromLongLong(t);
    if (ts == NULL) {
        Py_DECREF(frame);
        return NULL;
    }
    PyObject *pair = PyTuple_New(2);
    if (pair == NULL) {
        Py_DECREF(ts);
        Py_DECREF(frame);
        return NULL;
    }
    PyTuple_SET_ITEM(pair, 0, ts);
    PyTuple_SET_ITEM(pair, 1, frame);
    return pair;
}

static int append_pair(PyObject *out, long long t, PyObject *frame)
{
    PyObject *pair = frame_pair(t, frame);
    if (pair == NULL)
        return -1;
    int rc = PyList_Append(out, pair);
    Py_DECREF(pair);
    return rc;
}

/* A plain segment from a 54-byte template: the fields TcpSession._send varies, then the payload. */
static PyObject *segment(const unsigned char *template, uint32_t ip_id, uint32_t ip_sum, uint32_t seq,
                         uint32_t ack, uint32_t flags, uint32_t tcp_sum, const unsigned char *payload,
                         Py_ssize_t n)
{
    Py_ssize_t length = HEADERS + n < MIN_FRAME ? MIN_FRAME : HEADERS + n;
    PyObject *frame = PyBytes_FromStringAndSize(NULL, length);
    if (frame == NULL)
        return NULL;
    unsigned char *p = (unsigned char *)PyBytes_AS_STRING(frame);
    memcpy(p, template, HEADERS);
    put_be16(p + 16, (uint32_t)(40 + n)); /* IPv4 total length */
    put_be16(p + 18, ip_id);
    put_be16(p + 24, ip_sum);
    put_be32(p + 38, seq);
    put_be32(p + 42, ack);
    put_be16(p + 46, 5u << 12 | flags); /* data offset (5 words: no options) and flags */
    put_be16(p + 50, tcp_sum);
    put_be16(p + 52, 0); /* urgent pointer */
    memcpy(p + HEADERS, payload, (size_t)n);
    memset(p + HEADERS + n, 0, (size_t)(length - HEADERS - n)); /* Ethernet padding of a short frame */
    return frame;
}

static PyObject *tcp_bulk(PyObject *module, PyObject *args)
{
    (void)module;
    Py_buffer data, s_tpl, r_tpl;
    long long mss, cwnd, max_burst, t_us, ack_delay, turnaround, gap;
    unsigned long long s_ip_base, s_tcp_base, seq, snd_id, r_ip_base, r_tcp_base, rcv_seq, rcv_id;
    if (!PyArg_ParseTuple(args, "y*LLLLLLLy*KKKKy*KKKK:tcp_bulk", &data, &mss, &cwnd, &max_burst, &t_us,
                          &ack_delay, &turnaround, &gap, &s_tpl, &s_ip_base, &s_tcp_base, &seq, &snd_id,
                          &r_tpl, &r_ip_base, &r_tcp_base, &rcv_seq, &rcv_id))
        return NULL;
    PyObject *out = NULL;
    if (s_tpl.len != HEADERS || r_tpl.len != HEADERS) {
        PyErr_Format(PyExc_ValueError, "tcp_bulk: a header template has %d bytes", HEADERS);
        goto done;
    }
    if (mss <= 0 || max_burst <= 0 || cwnd <= 0) {
        PyErr_SetString(PyExc_ValueError, "tcp_bulk: mss, cwnd and max_burst must be positive");
        goto done;
    }
    if (mss > 0xFFFF - 40) { /* an IPv4 packet's total length is 16 bits */
        PyErr_Format(PyExc_ValueError, "tcp_bulk: an MSS of %lld does not fit an IPv4 packet", mss);
        goto done;
    }
    out = PyList_New(0);
    if (out == NULL)
        goto done;
    const unsigned char *bytes = data.buf;
    const unsigned char *s_t = s_tpl.buf, *r_t = r_tpl.buf;
    Py_ssize_t size = data.len;
    Py_ssize_t start = 0;
    long long t_burst = t_us, t_done = t_us;
    /* Python ints are unbounded; these stay far below 2**64 (16-bit ids, 32-bit numbers, small bases). */
    seq &= 0xFFFFFFFFull;
    rcv_seq &= 0xFFFFFFFFull;
    snd_id &= 0xFFFFull;
    rcv_id &= 0xFFFFull;
    while (start < size) {
        cwnd = cwnd < max_burst ? cwnd : max_burst;
        Py_ssize_t end = start + cwnd * mss < size ? start + cwnd * mss : size;
        int unacked = 0;
        long long t_seg = t_burst;
        for (Py_ssize_t offset = start; offset < end; offset += mss) {
            Py_ssize_t n = size - offset < mss ? size - offset : mss;
            int last = offset + mss >= size; /* PSH marks the end of what the application handed over */
            uint32_t flags = last ? (PSH_FLAG | ACK_FLAG) : ACK_FLAG;
            uint64_t body = word_sum(bytes + offset, n);
            uint32_t ip_sum = MOD - (uint32_t)((s_ip_base + (uint64_t)n + snd_id) % MOD);
            uint32_t tcp_sum = MOD - (uint32_t)((s_tcp_base + (uint64_t)n + seq + rcv_seq + flags + body) % MOD);
            PyObject *frame = segment(s_t, (uint32_t)snd_id, ip_sum, (uint32_t)seq, (uint32_t)rcv_seq, flags,
                                      tcp_sum, bytes + offset, n);
            if (append_pair(out, t_seg, frame) < 0)
                goto fail;
            seq = (seq + (uint64_t)n) & 0xFFFFFFFFull;
            snd_id = (snd_id + 1) & 0xFFFFull;
            unacked++;
            if (unacked == 2 || offset + mss >= end) { /* delayed ACK: every second segment, the burst's last */
                t_done = t_seg + ack_delay;
                uint32_t a_ip_sum = MOD - (uint32_t)((r_ip_base + rcv_id) % MOD);
                uint32_t a_tcp_sum = MOD - (uint32_t)((r_tcp_base + rcv_seq + seq) % MOD);
                frame = segment(r_t, (uint32_t)rcv_id, a_ip_sum, (uint32_t)rcv_seq, (uint32_t)seq, ACK_FLAG,
                                a_tcp_sum, NULL, 0);
                if (append_pair(out, t_done, frame) < 0)
                    goto fail;
                rcv_id = (rcv_id + 1) & 0xFFFFull;
                unacked = 0;
            }
            t_seg += gap;
        }
        cwnd = 2 * cwnd < max_burst ? 2 * cwnd : max_burst;
        start = end;
        t_burst = t_done + turnaround;
    }
    PyObject *result = Py_BuildValue("(NKKKLL)", out, seq, snd_id, rcv_id, cwnd, t_done);
    out = NULL;
    PyBuffer_Release(&data);
    PyBuffer_Release(&s_tpl);
    PyBuffer_Release(&r_tpl);
    return result;

fail:
    Py_CLEAR(out);
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&s_tpl);
    PyBuffer_Release(&r_tpl);
    return out;
}

/* ------------------------------------------------------------------ labelling a step's frames */

static PyObject *extend_labelled(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *pending, *frames, *label;
    if (!PyArg_ParseTuple(args, "O!O!O:extend_labelled", &PyList_Type, &pending, &PyList_Type, &frames, &label))
        return NULL;
    /* The count is read once (pending may be frames itself); each pair is held while its triple is made,
     * since making a tuple can run the cyclic GC, and with it finalizers that could change the list. */
    Py_ssize_t count = PyList_GET_SIZE(frames);
    for (Py_ssize_t i = 0; i < count && i < PyList_GET_SIZE(frames); i++) {
        PyObject *pair = PyList_GET_ITEM(frames, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_Format(PyExc_TypeError, "frame %zd: expected a (ts_us, frame) tuple", i);
            return NULL;
        }
        Py_INCREF(pair);
        PyObject *triple = PyTuple_Pack(3, PyTuple_GET_ITEM(pair, 0), PyTuple_GET_ITEM(pair, 1), label);
        Py_DECREF(pair);
        if (triple == NULL)
            return NULL;
        int rc = PyList_Append(pending, triple);
        Py_DECREF(triple);
        if (rc < 0)
            return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"extend_labelled", extend_labelled, METH_VARARGS,
     "extend_labelled(pending, frames, label): append (ts_us, frame, label) for each (ts_us, frame) of frames."},
    {"epb_encode", epb_encode, METH_VARARGS,
     "epb_encode(records, interface) -> (times, ends, blob): Enhanced Packet Blocks of (ts_us, frame, comment) records."},
    {"tcp_bulk", tcp_bulk, METH_VARARGS,
     "tcp_bulk(...) -> (frames, seq, snd_id, rcv_id, cwnd, t_done): the segments and ACKs of a bulk TCP send."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", "Compiled hot loops of the simulation's frame path.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
