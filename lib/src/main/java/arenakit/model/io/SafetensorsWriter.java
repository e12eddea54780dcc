package arenakit.model.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import arenakit.model.io.SafetensorsFile.DType;
import arenakit.model.tensor.HalfFloats;
import arenakit.util.AtomicFiles;
import arenakit.util.Json;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes {@code .safetensors} files (the format of HF checkpoints and PEFT adapters), atomically.
 *
 * <p>Values are streamed tensor by tensor in blocks, so a multi-GB checkpoint never sits on the Java heap; each
 * block is converted to the file's dtype (F32, F16 or BF16, round-to-nearest-even) on the way out.
 */
public final class SafetensorsWriter {
    private static final int BLOCK = 1 << 20;

    private SafetensorsWriter() {}

    /** Produces a tensor's values (row-major) for elements {@code [start, start + block.length)}. */
    @FunctionalInterface
    public interface Values {
        void fill(long start, float[] block);
    }

    /** A named tensor to write. */
    public record Tensor(String name, long[] shape, Values values) {
        public long numel() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        /** A tensor whose values are in memory already. */
        public static Tensor of(String name, long[] shape, float[] data) {
            return new Tensor(name, shape, (start, block) -> System.arraycopy(data, (int) start, block, 0, block.length));
        }

        /**
         * An NDArray (any float type, any device), read block by block while the file is written, so a large
         * tensor never needs a full copy on the heap. The array must stay open until the write is done.
         */
        public static Tensor of(String name, NDArray array) {
            return new Tensor(name, array.getShape().getShape(), (start, block) -> {
                try (NDScope scope = new NDScope()) {
                    NDArray part = array.stopGradient().reshape(-1).get(new NDIndex(start + ":" + (start + block.length)));
                    float[] values = part.toType(DataType.FLOAT32, false).toFloatArray();
                    System.arraycopy(values, 0, block, 0, block.length);
                }
            });
        }
    }

    /** Writes {@code tensors} in the given order with {@code metadata} (e.g. format=pt). */
    public static void write(Path file, DType dtype, List<Tensor> tensors, Map<String, String> metadata)
            throws IOException {
        ObjectNode header = Json.MAPPER.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Tensor t : tensors) {
            ObjectNode node = header.putObject(t.name());
            node.put("dtype", dtype.name());
            ArrayNode shape = node.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            long bytes = t.numel() * dtype.bytes();
            node.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                .writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8; // the data section starts 8-byte aligned
        byte[] headerBytes = new byte[padded];
        System.arraycopy(json, 0, headerBytes, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            headerBytes[i] = ' ';
        }
        AtomicFiles.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, padded);
            out.write(len.array());
            out.write(headerBytes);
            for (Tensor t : tensors) {
                writeValues(out, t, dtype);
            }
        });
    }

    private static void writeValues(OutputStream out, Tensor t, DType dtype) throws IOException {
        long n = t.numel();
        float[] block = new float[(int) Math.min(BLOCK, Math.max(n, 1))];
        ByteBuffer bytes = ByteBuffer.allocate(block.length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (long start = 0; start < n; start += block.length) {
            int len = (int) Math.min(block.length, n - start);
            float[] values = len == block.length ? block : new float[len];
            t.values().fill(start, values);
            bytes.clear();
            for (int i = 0; i < len; i++) {
                switch (dtype) {
                    case F32 -> bytes.putFloat(values[i]);
                    case F16 -> bytes.putShort(HalfFloats.floatToHalf(values[i]));
                    case BF16 -> bytes.putShort(HalfFloats.floatToBf16(values[i]));
                }
            }
            out.write(bytes.array(), 0, len * dtype.bytes());
        }
    }
}
