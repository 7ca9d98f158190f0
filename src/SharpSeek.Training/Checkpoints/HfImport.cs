using SharpSeek.Formats.Safetensors;
using SharpSeek.Models;
using SharpSeek.Tensors;
using SharpSeek.Training.Model;
using static TorchSharp.torch;

namespace SharpSeek.Training.Checkpoints;

/// <summary>
/// Loads a Hugging Face DeepSeek checkpoint (<c>config.json</c> + <c>model.safetensors</c>, or shards with an index)
/// into a <see cref="DeepSeekModel"/> as float32: BF16/F16 widened, FP8 dequantised with its 128×128 block scales.
/// </summary>
public static class HfImport
{
    /// <summary>Builds the model from <c>config.json</c> in <paramref name="directory"/> and loads its weights.</summary>
    public static DeepSeekModel Load(string directory)
    {
        var cfg = ModelConfig.Load(Path.Combine(directory, "config.json"));
        var model = new DeepSeekModel(cfg);
        try
        {
            model.InitialiseWeights();
            LoadWeights(model, directory);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies every parameter of <paramref name="model"/> from the checkpoint. A checkpoint without the MTP layer
    /// (Hugging Face conversions drop it) leaves that layer as initialised; its names are returned.
    /// </summary>
    public static IReadOnlyList<string> LoadWeights(DeepSeekModel model, string directory)
    {
        using var source = TensorSource.Open(directory, model.Config.Fp8BlockSize);
        string mtpPrefix = $"model.layers.{model.Config.NumHiddenLayers}.";
        var missing = new List<string>();
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            var w = source.TryGet(name);
            if (w is null)
            {
                if (name.StartsWith(mtpPrefix, StringComparison.Ordinal)) { missing.Add(name); continue; }
                throw new ModelFormatException($"{directory}: missing tensor '{name}'");
            }
            if (!w.Shape.SequenceEqual(p.shape))
                throw new ModelFormatException($"{w.File}: tensor '{name}' has shape {w.ShapeText}, the model expects [{string.Join(", ", p.shape)}]");
            using var t = tensor(w.ToFloat32(), p.shape);
            p.copy_(t);
        }
        return missing;
    }

    /// <summary>Tensors of a model directory by name: <c>model.safetensors</c>, or the shards an index lists. Other safetensors files beside them (gradients, optimiser state) are ignored.</summary>
    private sealed class TensorSource : IDisposable
    {
        private readonly SafetensorsCheckpoint? _sharded;
        private readonly SafetensorsFile? _single;
        private readonly int _blockSize;

        private TensorSource(SafetensorsCheckpoint? sharded, SafetensorsFile? single, int blockSize)
        {
            _sharded = sharded;
            _single = single;
            _blockSize = blockSize;
        }

        public static TensorSource Open(string directory, int blockSize)
        {
            string single = Path.Combine(directory, "model.safetensors");
            if (!File.Exists(Path.Combine(directory, "model.safetensors.index.json")) && File.Exists(single))
                return new TensorSource(null, new SafetensorsFile(single), blockSize);
            return new TensorSource(new SafetensorsCheckpoint(directory, blockSize), null, blockSize);
        }

        public WeightTensor? TryGet(string name)
        {
            if (_sharded is not null) return _sharded.Contains(name) ? _sharded.Get(name) : null;
            if (!_single!.Entries.ContainsKey(name)) return null;
            var t = _single.GetTensor(name);
            return t.Type == DType.F8E4M3 ? WithScales(t) : t;
        }

        private unsafe WeightTensor WithScales(WeightTensor t)
        {
            string scaleName = t.Name + "_scale_inv";
            if (!_single!.Entries.ContainsKey(scaleName)) throw new ModelFormatException($"{t.File}: FP8 tensor '{t.Name}' has no block scales '{scaleName}'");
            var s = _single.GetTensor(scaleName);
            long br = (t.Shape[0] + _blockSize - 1) / _blockSize, bc = (t.Shape[1] + _blockSize - 1) / _blockSize;
            if (t.Shape.Length != 2 || s.Type != DType.F32 || s.Shape.Length != 2 || s.Shape[0] != br || s.Shape[1] != bc)
                throw new ModelFormatException($"{t.File}: block scales '{scaleName}' {s.ShapeText} do not fit {t.ShapeText} in {_blockSize}×{_blockSize} blocks");
            return new WeightTensor(t.Name, t.File, t.Type, t.Shape, t.Data, t.ByteLength, new BlockScales((float*)s.Data, (int)br, (int)bc, _blockSize));
        }

        public void Dispose()
        {
            _sharded?.Dispose();
            _single?.Dispose();
        }
    }
}
