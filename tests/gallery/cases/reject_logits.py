# build_resnet returns logits (no softmax).
# %%
# include: imports
# %%
# include: ref_block
# %%
def build_resnet(input_shape=(28, 28, 1), num_classes=10):
    inputs = layers.Input(shape=input_shape)
    x = layers.Conv2D(32, 3, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D()(x)
    x = ResidualBlock(x, filters=32, kernel_size=3)
    x = ResidualBlock(x, filters=32, kernel_size=3)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(num_classes)(x))
# %%
# include: cnn_builder
