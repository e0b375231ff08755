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
def build_cnn(input_shape=(28, 28, 1), num_classes=10):
    inputs = layers.Input(shape=input_shape)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)
# %%
model_cnn = build_cnn(input_shape=X_train.shape[1:])
model_cnn.summary()
