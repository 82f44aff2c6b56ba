// Package graph is the only place in aelab that builds gorgonia expression graphs.
//
// It holds the pieces every model is made of: dense layers ([Dense]) whose parameters
// ([Param]) live in host memory, activations, reconstruction losses, the contractive
// penalty, and the programs built from them ([Program]): a gorgonia graph with its inputs,
// outputs and, for training, its loss and the symbolic gradients that gorgonia.Grad adds.
//
// # Shapes
//
// Letters in shape comments: B = batch, D = input size (784 for MNIST), H = code size,
// In/Out = a layer's input and output sizes. Tensors are row-major float32. Inside graphs a
// weight matrix is In×Out (y = x·W + b); checkpoints store it Out×In, as torch.nn.Linear.
//
// # Executors
//
// A [Backend] compiles a Program into an [Executor], which feeds inputs, evaluates outputs
// and takes Adam steps. [CPU] runs programs on gorgonia's TapeMachine; the cuda package
// implements the same interface for NVIDIA GPUs. Executors of one backend share the
// parameters they were compiled with, so a training and an evaluation program over the same
// Params see the same weights.
//
// # Errors
//
// Errors start with "graph:". Gorgonia panics on some malformed graphs; the functions here
// turn those into errors, so nothing built here panics.
package graph
