# Data loading and training cells beside correct functions that use only their parameters.
# %%
# include: imports
# %%
from autograder.public.data import load_fashion_mnist
(X_train, y_train), (X_test, y_test) = load_fashion_mnist()
X_train = X_train.reshape(-1, 28, 28, 1)
# %%
# include: ref_block
# %%
# include: resnet_builder
# %%
# include: cnn_builder
# %%
model_cnn = build_cnn(input_shape=X_train.shape[1:])
model_cnn.summary()
