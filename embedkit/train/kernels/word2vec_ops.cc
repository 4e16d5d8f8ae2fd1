// word2vec's negative-sampling updates (CBOW and skip-gram) as TensorFlow CPU ops that step a group of batches
// example by example, in place on the two tables (resource variables), as gensim's fast_sentence_cbow_neg /
// fast_sentence_sg_neg do: each example's update is applied before the next example is scored. Several threads may
// run these ops at once on the same tables, Hogwild-style, as gensim's worker threads do.
//
// Built and loaded by embedkit/train/native.py (compiled on first use with the C++ compiler and
// tf.sysconfig's flags); the batches are those of embedkit.train.batches.BatchMaker, grouped by
// embedkit.train.batches.group_batches (leading axis: the group's batches).
//
// Each op returns [loss sum, examples] in float64: the negative-sampling loss of every example with some context
// (CBOW) or every live pair (skip-gram), each word's score taken just before that word's update, the target and
// its negatives (a negative equal to the target is skipped, as gensim skips it), summed in float64.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/resource_mgr.h"
#include "tensorflow/core/framework/resource_var.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace embedkit {
namespace {

using ::tensorflow::DEVICE_CPU;
using ::tensorflow::DT_FLOAT;
using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Status;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using ::tensorflow::Var;
using ::tensorflow::int32;
using ::tensorflow::mutex_lock;
using ::tensorflow::tf_shared_lock;
namespace errors = ::tensorflow::errors;
namespace core = ::tensorflow::core;

constexpr float kMaxExp = 6.0f;  // gensim's MAX_EXP: a score at or beyond it updates nothing for that word

Status LossShape(::tensorflow::shape_inference::InferenceContext* c) {
  c->set_output(0, c->Vector(2));
  return Status();
}

// A table the op writes: a float32 matrix of its own (copied first when a snapshot such as a .numpy() shares it).
struct Table {
  core::RefCountPtr<Var> var;
  float* data = nullptr;
  int64_t rows = 0;
  int64_t dim = 0;
};

Status OpenTable(OpKernelContext* ctx, int input, const char* what, Table* table) {
  TF_RETURN_IF_ERROR(::tensorflow::LookupResource(ctx, ::tensorflow::HandleFromInput(ctx, input), &table->var));
  Var* v = table->var.get();
  {
    tf_shared_lock lock(*v->mu());
    Tensor* t = v->tensor();
    if (t->dtype() != DT_FLOAT || t->dims() != 2) {
      return errors::InvalidArgument("`", what, "` must be a float32 matrix. Received: ",
                                     ::tensorflow::DataTypeString(t->dtype()), " of shape ", t->shape().DebugString());
    }
    if (t->RefCountIsOne()) {
      table->data = t->flat<float>().data();
      table->rows = t->dim_size(0);
      table->dim = t->dim_size(1);
      return Status();
    }
  }
  mutex_lock lock(*v->mu());  // only when a snapshot shares the buffer: the other steps keep their shared lock
  Tensor* t = v->tensor();
  if (!t->RefCountIsOne()) {
    Tensor copy;
    TF_RETURN_IF_ERROR(ctx->allocate_temp(DT_FLOAT, t->shape(), &copy));
    std::memcpy(copy.flat<float>().data(), t->flat<float>().data(), t->TotalBytes());
    *t = copy;
  }
  table->data = t->flat<float>().data();
  table->rows = t->dim_size(0);
  table->dim = t->dim_size(1);
  return Status();
}

// Under a lock on the table's variable: whether no snapshot shares its buffer, and then where its rows are (the
// buffer a step writes is read under the same shared lock that it holds while writing).
bool Owned(Table* table) {
  Tensor* t = table->var->tensor();
  if (!t->RefCountIsOne()) return false;
  table->data = t->flat<float>().data();
  return true;
}

// Inputs 0 and 1: the input and output tables, of the same width.
Status OpenTables(OpKernelContext* ctx, Table* in, Table* out) {
  TF_RETURN_IF_ERROR(OpenTable(ctx, 0, "input_table", in));
  TF_RETURN_IF_ERROR(OpenTable(ctx, 1, "output_table", out));
  if (in->dim != out->dim) {
    return errors::InvalidArgument("The tables must have the same width. Received: ", in->dim, " and ", out->dim);
  }
  return Status();
}

// Runs `step(&loss, &examples)` with both tables' rows at in->data / out->data, under the shared locks that
// Hogwild steps hold (a snapshot taken since OpenTables is copied again first), then writes [loss, examples] as the
// op's output.
template <typename Step>
Status StepLocked(OpKernelContext* ctx, Table* in, Table* out, Step step) {
  double loss = 0.0, examples = 0.0;
  for (;;) {
    {
      tf_shared_lock lock_in(*in->var->mu());
      tf_shared_lock lock_out(*out->var->mu());
      if (Owned(in) && Owned(out)) {  // checked under the locks the steps hold
        step(&loss, &examples);
        break;
      }
    }
    TF_RETURN_IF_ERROR(OpenTables(ctx, in, out));  // a snapshot came meanwhile: copy again
  }
  Tensor* result = nullptr;
  TF_RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape({2}), &result));
  result->flat<double>()(0) = loss;
  result->flat<double>()(1) = examples;
  return Status();
}

Status CheckIds(const Tensor& ids, int64_t rows, const char* what, const char* table) {
  const auto flat = ids.flat<int32>();
  for (int64_t i = 0; i < flat.size(); ++i) {
    if (flat(i) < 0 || flat(i) >= rows) {
      return errors::InvalidArgument("`", what, "` must hold row ids of the ", table, " table (0..", rows - 1,
                                     "). Received: ", flat(i));
    }
  }
  return Status();
}

inline float Dot(const float* __restrict a, const float* __restrict b, int d) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int i = 0; i < d; ++i) s += a[i] * b[i];
  return s;
}

inline void Axpy(float g, const float* __restrict x, float* __restrict y, int d) {
#pragma omp simd
  for (int i = 0; i < d; ++i) y[i] += g * x[i];
}

// The rows the next example reads are fetched while this one is computed: the tables are larger than the caches
// and an example reads about a dozen far-apart rows (measured: a third less time per epoch on mixed-en).
inline void Prefetch(const float* row, int d) {
  const char* p = reinterpret_cast<const char*>(row);
  for (int i = 0; i < d * static_cast<int>(sizeof(float)); i += 64) __builtin_prefetch(p + i, 1, 3);
}

// Scores h against the target (label 1) and its negatives (label 0), updating each output row in place and adding
// the error sent back to the input side to `work`; returns the example's loss.
inline double NegativeSampling(const float* h, float* out, int dim, int32 target, const int32* neg, int64_t k,
                               float alpha, float* work) {
  double loss = 0.0;
  for (int64_t j = 0; j <= k; ++j) {
    const int32 word = j == 0 ? target : neg[j - 1];
    if (j > 0 && word == target) continue;
    float* row = out + static_cast<int64_t>(word) * dim;
    const float f = Dot(h, row, dim);
    const float z = j == 0 ? f : -f;  // log sigmoid(z) is the word's log likelihood
    const float e = std::exp(-std::fabs(z));
    loss += static_cast<double>(std::max(-z, 0.0f) + std::log1p(e));
    if (f <= -kMaxExp || f >= kMaxExp) continue;
    const float sig_f = f >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);  // sigmoid(f), from e = exp(-|f|)
    const float g = ((j == 0 ? 1.0f : 0.0f) - sig_f) * alpha;
    Axpy(g, row, work, dim);
    Axpy(g, h, row, dim);
  }
  return loss;
}

class CbowStepsOp : public OpKernel {
 public:
  explicit CbowStepsOp(OpKernelConstruction* c) : OpKernel(c) {
    OP_REQUIRES_OK(c, c->GetAttr("window", &window_));
    OP_REQUIRES_OK(c, c->GetAttr("cbow_mean", &cbow_mean_));
    OP_REQUIRES(c, window_ > 0, errors::InvalidArgument("`window` must be positive. Received: ", window_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& span = ctx->input(2);
    const Tensor& in_window = ctx->input(3);
    const Tensor& target = ctx->input(4);
    const Tensor& negatives = ctx->input(5);
    const Tensor& alpha = ctx->input(6);
    const int w = window_;
    OP_REQUIRES(ctx, span.dims() == 2 && target.dims() == 2 && in_window.dims() == 3 && negatives.dims() == 3 &&
                         alpha.dims() == 1,
                errors::InvalidArgument("Expected span (G, U), in_window (G, B, 2w), target (G, B), negatives "
                                        "(G, B, K) and alpha (G,)."));
    const int64_t G = target.dim_size(0), B = target.dim_size(1), K = negatives.dim_size(2), U = span.dim_size(1);
    OP_REQUIRES(ctx, span.dim_size(0) == G && in_window.dim_size(0) == G && negatives.dim_size(0) == G &&
                         alpha.dim_size(0) == G && in_window.dim_size(1) == B && negatives.dim_size(1) == B &&
                         in_window.dim_size(2) == 2 * w,
                errors::InvalidArgument("The batch arrays disagree on their group, batch or window sizes."));
    const int64_t nseg = B > 0 && U > B && (U - B) % (2 * w) == 0 ? (U - B) / (2 * w) : 0;
    OP_REQUIRES(ctx, B == 0 || (nseg > 0 && B % nseg == 0),
                errors::InvalidArgument("`span` must hold the batch's segments with `window` words on each side. "
                                        "Received: ", U, " ids for ", B, " targets, window ", w));
    Table in, out;
    OP_REQUIRES_OK(ctx, OpenTables(ctx, &in, &out));
    OP_REQUIRES_OK(ctx, CheckIds(span, in.rows, "span", "input"));
    OP_REQUIRES_OK(ctx, CheckIds(target, out.rows, "target", "output"));
    OP_REQUIRES_OK(ctx, CheckIds(negatives, out.rows, "negatives", "output"));

    const int64_t seg = nseg ? B / nseg : 1;
    const int dim = static_cast<int>(in.dim);
    const int32* sp = span.flat<int32>().data();
    const bool* mw = in_window.flat<bool>().data();
    const int32* tg = target.flat<int32>().data();
    const int32* ng = negatives.flat<int32>().data();
    const float* al = alpha.flat<float>().data();
    std::vector<int> offsets;  // the context columns: offsets -1..-w, then +1..+w (embedkit.train.update)
    for (int o = 1; o <= w; ++o) offsets.push_back(-o);
    for (int o = 1; o <= w; ++o) offsets.push_back(o);
    std::vector<float> h(dim), work(dim);
    std::vector<int32> context(2 * w);
    OP_REQUIRES_OK(ctx, StepLocked(ctx, &in, &out, [&](double* loss, double* examples) {
      auto context_id = [&](const int32* batch_span, int64_t r, int c) {
        return batch_span[(r / seg) * (seg + 2 * w) + r % seg + w + offsets[c]];
      };
      for (int64_t gi = 0; gi < G; ++gi) {
        const int32* bsp = sp + gi * U;
        for (int64_t r = 0; r < B; ++r) {
          const int64_t ex = gi * B + r;
          if (r + 1 < B) {
            const bool* next = mw + (ex + 1) * 2 * w;
            for (int c = 0; c < 2 * w; ++c)
              if (next[c]) Prefetch(in.data + static_cast<int64_t>(context_id(bsp, r + 1, c)) * dim, dim);
            Prefetch(out.data + static_cast<int64_t>(tg[ex + 1]) * dim, dim);
            for (int64_t j = 0; j < K; ++j) Prefetch(out.data + static_cast<int64_t>(ng[(ex + 1) * K + j]) * dim, dim);
          }
          const bool* m = mw + ex * 2 * w;
          int count = 0;
          for (int c = 0; c < 2 * w; ++c)
            if (m[c]) context[count++] = context_id(bsp, r, c);
          if (count == 0) continue;  // no context: no update, not counted (as the XLA update's `real`)
          std::fill(h.begin(), h.end(), 0.0f);
          for (int c = 0; c < count; ++c) Axpy(1.0f, in.data + static_cast<int64_t>(context[c]) * dim, h.data(), dim);
          const float inv = 1.0f / static_cast<float>(count);
          if (cbow_mean_)
            for (int i = 0; i < dim; ++i) h[i] *= inv;
          std::fill(work.begin(), work.end(), 0.0f);
          *loss += NegativeSampling(h.data(), out.data, dim, tg[ex], ng + ex * K, K, al[gi], work.data());
          if (!cbow_mean_)
            for (int i = 0; i < dim; ++i) work[i] *= inv;
          for (int c = 0; c < count; ++c) Axpy(1.0f, work.data(), in.data + static_cast<int64_t>(context[c]) * dim, dim);
          *examples += 1.0;
        }
      }
    }));
  }

 private:
  int window_ = 0;
  bool cbow_mean_ = true;
};

class SgStepsOp : public OpKernel {
 public:
  explicit SgStepsOp(OpKernelConstruction* c) : OpKernel(c) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& context = ctx->input(2);
    const Tensor& target = ctx->input(3);
    const Tensor& negatives = ctx->input(4);
    const Tensor& live = ctx->input(5);
    const Tensor& alpha = ctx->input(6);
    OP_REQUIRES(ctx, context.dims() == 2 && target.dims() == 2 && live.dims() == 2 && negatives.dims() == 3 &&
                         alpha.dims() == 1,
                errors::InvalidArgument("Expected context, target and live (G, P), negatives (G, P, K) and alpha "
                                        "(G,)."));
    const int64_t G = target.dim_size(0), P = target.dim_size(1), K = negatives.dim_size(2);
    OP_REQUIRES(ctx, context.dim_size(0) == G && live.dim_size(0) == G && negatives.dim_size(0) == G &&
                         alpha.dim_size(0) == G && context.dim_size(1) == P && live.dim_size(1) == P &&
                         negatives.dim_size(1) == P,
                errors::InvalidArgument("The batch arrays disagree on their group or batch sizes."));
    Table in, out;
    OP_REQUIRES_OK(ctx, OpenTables(ctx, &in, &out));
    OP_REQUIRES_OK(ctx, CheckIds(context, in.rows, "context", "input"));
    OP_REQUIRES_OK(ctx, CheckIds(target, out.rows, "target", "output"));
    OP_REQUIRES_OK(ctx, CheckIds(negatives, out.rows, "negatives", "output"));

    const int dim = static_cast<int>(in.dim);
    const int32* cx = context.flat<int32>().data();
    const int32* tg = target.flat<int32>().data();
    const int32* ng = negatives.flat<int32>().data();
    const bool* lv = live.flat<bool>().data();
    const float* al = alpha.flat<float>().data();
    std::vector<float> work(dim);
    OP_REQUIRES_OK(ctx, StepLocked(ctx, &in, &out, [&](double* loss, double* examples) {
      const int64_t n = G * P;
      for (int64_t ex = 0; ex < n; ++ex) {
        if (ex + 1 < n && lv[ex + 1]) {
          Prefetch(in.data + static_cast<int64_t>(cx[ex + 1]) * dim, dim);
          Prefetch(out.data + static_cast<int64_t>(tg[ex + 1]) * dim, dim);
          for (int64_t j = 0; j < K; ++j) Prefetch(out.data + static_cast<int64_t>(ng[(ex + 1) * K + j]) * dim, dim);
        }
        if (!lv[ex]) continue;
        float* l1 = in.data + static_cast<int64_t>(cx[ex]) * dim;  // the context word's input vector
        std::fill(work.begin(), work.end(), 0.0f);
        *loss += NegativeSampling(l1, out.data, dim, tg[ex], ng + ex * K, K, al[ex / P], work.data());
        Axpy(1.0f, work.data(), l1, dim);
        *examples += 1.0;
      }
    }));
  }
};

}  // namespace

REGISTER_OP("EmbedkitCbowSteps")
    .Input("input_table: resource")
    .Input("output_table: resource")
    .Input("span: int32")
    .Input("in_window: bool")
    .Input("target: int32")
    .Input("negatives: int32")
    .Input("alpha: float")
    .Attr("window: int")
    .Attr("cbow_mean: bool = true")
    .Output("loss: float64")
    .SetIsStateful()
    .SetShapeFn(LossShape);

REGISTER_OP("EmbedkitSgSteps")
    .Input("input_table: resource")
    .Input("output_table: resource")
    .Input("context: int32")
    .Input("target: int32")
    .Input("negatives: int32")
    .Input("live: bool")
    .Input("alpha: float")
    .Output("loss: float64")
    .SetIsStateful()
    .SetShapeFn(LossShape);

REGISTER_KERNEL_BUILDER(Name("EmbedkitCbowSteps").Device(DEVICE_CPU), CbowStepsOp);
REGISTER_KERNEL_BUILDER(Name("EmbedkitSgSteps").Device(DEVICE_CPU), SgStepsOp);

}  // namespace embedkit
