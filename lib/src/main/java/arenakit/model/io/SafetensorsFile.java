package arenakit.model.io;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import arenakit.model.tensor.HalfFloats;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * One {@code .safetensors} file, read through memory maps: the JSON header is parsed once, each tensor is mapped
 * on demand and handed to PyTorch without a copy on the Java heap.
 *
 * <p>Float32 into a float32 CPU tensor is zero-copy (the tensor reads the page cache; never write into it).
 * Other conversions (bf16 or f16 to f32, bf16 or f32 to f16) are done in Java, in parallel, because BFLOAT16 must
 * never reach DJL; they go in row blocks straight into tensors PyTorch owns (one map or buffer cannot exceed
 * 2 GB, and Gemma-2-9B's embedding is 3.7 GB in f32).
 */
public final class SafetensorsFile {

    /** The safetensors dtypes this project reads and writes. */
    public enum DType {
        F32(4), F16(2), BF16(2);

        private final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }

        public int bytes() {
            return bytes;
        }

        /** The dtype named in a header or on a command line, e.g. "BF16"; a clear error for others. */
        public static DType parse(String name, String where) {
            for (DType t : values()) {
                if (t.name().equalsIgnoreCase(name)) {
                    return t;
                }
            }
            throw new IllegalArgumentException(where + ": dtype " + name + " is not supported (only F32, F16, BF16)");
        }
    }

    /** One tensor's place in the file: offsets are relative to the start of the data section. */
    public record Entry(String name, DType dtype, long[] shape, long begin, long end) {
        public long numel() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        public Shape djlShape() {
            return new Shape(shape);
        }
    }

    private static final long MAX_HEADER = 100L << 20;
    private static final int CONVERT_BLOCK = 1 << 20;
    /** Largest piece mapped or converted at once (tests lower it to force many blocks). */
    public static long blockBytes = 64L << 20;
    private static final ThreadLocal<ByteBuffer> STAGING = new ThreadLocal<>();

    private final Path path;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, long dataStart, Map<String, Entry> entries, Map<String, String> metadata) {
        this.path = path;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** The element types the safetensors format defines, by name; only F32, F16 and BF16 are read here. */
    private static final java.util.Set<String> FORMAT_DTYPES = java.util.Set.of("BOOL", "U8", "I8", "U16", "I16",
            "U32", "I32", "U64", "I64", "F64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64");
    private static final java.util.Set<String> ENTRY_KEYS = java.util.Set.of("dtype", "shape", "data_offsets");

    /**
     * Parses and checks the header as strictly as the reference implementation: an 8-byte length that fits the file,
     * a JSON object (no duplicate keys), {@code __metadata__} string to string, and per tensor exactly
     * {@code dtype} (F32, F16 or BF16), {@code shape} (integers >= 0) and {@code data_offsets} ([begin, end],
     * integers), the byte range matching shape and dtype; the tensors tile the data section with no overlap, gap or
     * trailing bytes. Every error names the file and, where there is one, the tensor.
     */
    public static SafetensorsFile open(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new IOException(path + ": not a safetensors file (" + size + " bytes; the format starts with an "
                        + "8-byte header length)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen <= 1 || headerLen > MAX_HEADER) {
                throw new IOException(path + ": not a safetensors file: its first 8 bytes give a header length of "
                        + headerLen + " (expected 2 to " + MAX_HEADER + " bytes)");
            }
            if (8 + headerLen > size) {
                throw new IOException(path + ": the file is cut short: its header needs " + headerLen + " bytes after "
                        + "the first 8, but the file has " + size + " bytes in all (a truncated download or copy?)");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(ch, header, 8);
            JsonNode root;
            try {
                root = Json.MAPPER.readTree(header.array());
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IOException(path + ": the safetensors header is not valid JSON (" + e.getOriginalMessage()
                        + ")", e);
            }
            if (root == null || !root.isObject()) {
                throw new IOException(path + ": the safetensors header must be a JSON object, got "
                        + (root == null ? "nothing" : root.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
            }
            long dataSize = size - 8 - headerLen;
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("__metadata__")) {
                    metadata(path, f.getValue(), metadata);
                    continue;
                }
                entries.put(f.getKey(), parseEntry(path, f.getKey(), f.getValue(), dataSize));
            }
            checkLayout(path, entries, dataSize);
            return new SafetensorsFile(path, 8 + headerLen, Collections.unmodifiableMap(entries),
                    Collections.unmodifiableMap(metadata));
        }
    }

    private static void metadata(Path path, JsonNode node, Map<String, String> out) throws IOException {
        if (node.isNull()) {
            return;
        }
        if (!node.isObject()) {
            throw new IOException(path + ": __metadata__ must be an object of strings, got " + node);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> m = it.next();
            if (!m.getValue().isTextual()) {
                throw new IOException(path + ": __metadata__." + m.getKey() + " must be a string, got " + m.getValue());
            }
            out.put(m.getKey(), m.getValue().textValue());
        }
    }

    private static Entry parseEntry(Path path, String name, JsonNode node, long dataSize) throws IOException {
        String where = path + ": tensor " + name;
        if (!node.isObject()) {
            throw new IOException(where + ": the header entry must be an object with dtype, shape and data_offsets, "
                    + "got " + node);
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!ENTRY_KEYS.contains(key)) {
                throw new IOException(where + ": unknown key '" + key + "' in its header entry (dtype, shape, "
                        + "data_offsets)");
            }
        }
        JsonNode dtypeNode = node.get("dtype");
        JsonNode shapeNode = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        if (dtypeNode == null || shapeNode == null || offsets == null) {
            throw new IOException(where + ": its header entry lacks " + (dtypeNode == null ? "dtype"
                    : shapeNode == null ? "shape" : "data_offsets") + " (needs dtype, shape and data_offsets)");
        }
        if (!dtypeNode.isTextual()) {
            throw new IOException(where + ": dtype must be a string such as \"BF16\", got " + dtypeNode);
        }
        String dtypeName = dtypeNode.textValue();
        DType dtype = null;
        for (DType t : DType.values()) {
            if (t.name().equals(dtypeName)) {
                dtype = t;
            }
        }
        if (dtype == null) {
            throw new IOException(where + ": " + (FORMAT_DTYPES.contains(dtypeName)
                    ? "dtype " + dtypeName + " is not supported (only F32, F16 and BF16 tensors are read: a quantized "
                            + "or non-float checkpoint?)"
                    : "unknown dtype '" + dtypeName + "' (safetensors dtypes are upper case: F32, F16, BF16, ...)"));
        }
        if (!shapeNode.isArray()) {
            throw new IOException(where + ": shape must be a list of integers, got " + shapeNode);
        }
        long[] shape = new long[shapeNode.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
                throw new IOException(where + ": shape must be a list of integers >= 0, got " + shapeNode);
            }
            shape[i] = d.longValue();
            try {
                numel = Math.multiplyExact(numel, shape[i]);
            } catch (ArithmeticException e) {
                throw new IOException(where + ": shape " + shapeNode + " is too large", e);
            }
        }
        if (!offsets.isArray() || offsets.size() != 2 || !offsets.get(0).isIntegralNumber()
                || !offsets.get(1).isIntegralNumber() || !offsets.get(0).canConvertToLong()
                || !offsets.get(1).canConvertToLong()) {
            throw new IOException(where + ": data_offsets must be [begin, end] (two integers), got " + offsets);
        }
        Entry e = new Entry(name, dtype, shape, offsets.get(0).longValue(), offsets.get(1).longValue());
        if (e.begin() < 0 || e.end() < e.begin()) {
            throw new IOException(where + ": data_offsets " + offsets + " are not a byte range [begin, end] with "
                    + "0 <= begin <= end");
        }
        if (e.end() > dataSize) {
            throw new IOException(where + ": data_offsets [" + e.begin() + ", " + e.end() + "] fall outside the "
                    + "data section (" + dataSize + " bytes): the file is cut short (a truncated download or copy?) or its "
                    + "header is damaged");
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(numel, (long) dtype.bytes());
        } catch (ArithmeticException ex) {
            throw new IOException(where + ": shape " + shapeNode + " is too large", ex);
        }
        if (e.end() - e.begin() != bytes) {
            throw new IOException(where + ": shape " + Arrays.toString(shape) + " " + dtype + " needs "
                    + bytes + " bytes but data_offsets span " + (e.end() - e.begin()));
        }
        return e;
    }

    /** The tensors must tile the data section: no overlap, no gap, nothing after the last (as safetensors checks). */
    private static void checkLayout(Path path, Map<String, Entry> entries, long dataSize) throws IOException {
        java.util.List<Entry> sorted = new java.util.ArrayList<>(entries.values());
        sorted.sort(java.util.Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long at = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.begin() < at) {
                throw new IOException(path + ": tensor " + e.name() + " (bytes [" + e.begin() + ", " + e.end()
                        + ")) overlaps tensor " + previous.name() + " (bytes [" + previous.begin() + ", "
                        + previous.end() + ")): the header is damaged");
            }
            if (e.begin() > at) {
                throw new IOException(path + ": bytes [" + at + ", " + e.begin() + ") of the data section belong to no "
                        + "tensor (before " + e.name() + "): the header is damaged or not what safetensors writes");
            }
            at = e.end();
            previous = e;
        }
        if (at != dataSize) {
            throw new IOException(path + ": the data section has " + dataSize + " bytes but its tensors cover " + at
                    + " (" + (dataSize - at) + " bytes after the last tensor): the header is damaged or the file was "
                    + "appended to");
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) {
                throw new java.io.EOFException("unexpected end of file");
            }
        }
    }

    public Path path() {
        return path;
    }

    /** Tensors in header order. */
    public Map<String, Entry> entries() {
        return entries;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * The tensor as an NDArray of {@code target} type (FLOAT32 or FLOAT16) on {@code manager}'s device, owned by
     * {@code manager}. With {@code owned} false a same-type CPU load is a zero-copy view of the file (read-only
     * memory: fine for frozen weights, never for parameters an optimizer updates). Everything else is converted
     * block by block straight into memory PyTorch owns (on a GPU through one reused staging buffer), so the JVM's
     * direct-memory limit never bounds the model size.
     */
    public NDArray load(String name, NDManager manager, DataType target, boolean owned) throws IOException {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IOException(path + ": no tensor named " + name);
        }
        if (target != DataType.FLOAT32 && target != DataType.FLOAT16) {
            throw new IllegalArgumentException("target dtype must be FLOAT32 or FLOAT16, not " + target);
        }
        if (e.numel() == 0) {
            return manager.zeros(e.djlShape(), target);
        }
        boolean sameType = sameType(e.dtype(), target);
        if (sameType && !owned && !manager.getDevice().isGpu() && e.end() - e.begin() <= Integer.MAX_VALUE) {
            return manager.create(map(e, 0, e.numel()), e.djlShape(), target);
        }
        long[] shape = e.shape().length == 0 ? new long[] {1} : e.shape();
        long rowElems = e.numel() / shape[0];
        long rowBytes = rowElems * Math.max(e.dtype().bytes(), target.getNumOfBytes());
        long rowsPerBlock = Math.max(1, blockBytes / rowBytes);
        boolean gpu = manager.getDevice().isGpu();
        NDArray out = manager.create(new Shape(shape), target);
        try (NDManager cpu = manager.newSubManager(Device.cpu())) {
            for (long r = 0; r < shape[0]; r += rowsPerBlock) {
                long n = Math.min(rowsPerBlock, shape[0] - r);
                long count = n * rowElems;
                ByteBuffer src = map(e, r * rowElems, count);
                NDIndex rows = new NDIndex(r + ":" + (r + n));
                if (!gpu) { // write straight into the tensor's memory: one pass, no staging copy
                    try (NDArray view = out.get(rows)) {
                        ByteBuffer dst = view.toByteBuffer(true).order(ByteOrder.nativeOrder());
                        if (sameType) {
                            dst.put(src);
                        } else {
                            convert(e, src, count, target, dst);
                        }
                    }
                    continue;
                }
                long[] blockShape = shape.clone();
                blockShape[0] = n;
                ByteBuffer data = sameType ? src : convert(e, src, count, target, staging(count * target.getNumOfBytes()));
                try (NDArray block = cpu.create(data, new Shape(blockShape), target);
                        NDArray onDevice = block.toDevice(manager.getDevice(), false)) {
                    out.set(rows, onDevice);
                }
            }
        }
        return e.shape().length == 0 ? out.reshape(new Shape()) : out;
    }

    private static boolean sameType(DType from, DataType to) {
        return (from == DType.F32 && to == DataType.FLOAT32) || (from == DType.F16 && to == DataType.FLOAT16);
    }

    private ByteBuffer map(Entry e, long firstElem, long count) throws IOException {
        long start = dataStart + e.begin() + firstElem * e.dtype().bytes();
        long len = count * e.dtype().bytes();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, start, len).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** This thread's staging buffer for GPU loads, grown on demand (about {@link #blockBytes}). */
    private static ByteBuffer staging(long bytes) {
        ByteBuffer b = STAGING.get();
        if (b == null || b.capacity() < bytes) {
            b = ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.nativeOrder());
            STAGING.set(b);
        }
        ByteBuffer view = b.duplicate().order(ByteOrder.nativeOrder());
        view.limit(Math.toIntExact(bytes));
        return view.slice().order(ByteOrder.nativeOrder());
    }

    /** Converts {@code count} values to {@code target} into {@code dst}, in parallel blocks; returns dst. */
    private ByteBuffer convert(Entry e, ByteBuffer src, long count, DataType target, ByteBuffer dst) {
        int n = Math.toIntExact(count);
        DType from = e.dtype();
        int blocks = (n + CONVERT_BLOCK - 1) / CONVERT_BLOCK;
        long overflow = IntStream.range(0, blocks).parallel().mapToLong(b -> {
            int lo = b * CONVERT_BLOCK;
            int len = Math.min(CONVERT_BLOCK, n - lo);
            float[] values = new float[len];
            if (from == DType.F32) {
                src.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(lo, values);
            } else {
                short[] raw = new short[len];
                src.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(lo, raw);
                for (int i = 0; i < len; i++) {
                    values[i] = from == DType.BF16 ? HalfFloats.bf16ToFloat(raw[i]) : HalfFloats.halfToFloat(raw[i]);
                }
            }
            if (target == DataType.FLOAT32) {
                FloatBuffer out = dst.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
                out.put(lo, values);
                return 0;
            }
            short[] halves = new short[len];
            long inf = 0;
            for (int i = 0; i < len; i++) {
                halves[i] = HalfFloats.floatToHalf(values[i]);
                if ((halves[i] & 0x7fff) == 0x7c00 && Float.isFinite(values[i])) {
                    inf++;
                }
            }
            ShortBuffer out = dst.duplicate().order(ByteOrder.nativeOrder()).asShortBuffer();
            out.put(lo, halves);
            return inf;
        }).sum();
        if (overflow > 0) {
            throw new IllegalStateException(path + ": tensor " + e.name() + " has " + overflow
                    + " values beyond the float16 range (|v| > 65504); load it as FLOAT32");
        }
        return dst;
    }

    @Override
    public String toString() {
        return path + " (" + entries.size() + " tensors)";
    }
}
