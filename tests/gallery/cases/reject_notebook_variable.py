# build_cnn reads the notebook's data variable X_train (Input(shape=X_train.shape[1:])) instead of input_shape.
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
    inputs = layers.Input(shape=X_train.shape[1:])
    x = layers.Conv2D(32, 3, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D()(x)
    for _ in range(4):
        x = layers.Conv2D(32, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)
