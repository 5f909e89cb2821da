//! Test guest for tests/rust/wit/instances.wit: the interface `files` is imported as `left` and
//! `right` and exported as `mine` and `yours`; each export opens its files through its own
//! import, so every instance's resource type is a type of its own.

use instances_sdk::instances_guest::{left, mine, right, yours};

struct Guest;

pub struct MineFile {
    path: String,
}

impl mine::GuestFile for MineFile {
    fn new(path: String) -> Self {
        MineFile { path: format!("mine:{path}") }
    }

    fn path(&self) -> String {
        self.path.clone()
    }
}

impl mine::Files for Guest {
    type File = MineFile;

    fn open(path: String) -> mine::File {
        let host: left::File = left::open(&path);
        mine::File::new(MineFile { path: format!("mine:{}", host.path()) })
    }

    fn describe(f: mine::FileBorrow<'_>) -> String {
        let file: &MineFile = f.get();
        format!("mine has {}", file.path)
    }
}

pub struct YoursFile {
    path: String,
}

impl yours::GuestFile for YoursFile {
    fn new(path: String) -> Self {
        let host = right::File::new(&path);
        YoursFile { path: format!("yours:{}", right::describe(&host)) }
    }

    fn path(&self) -> String {
        self.path.clone()
    }
}

impl yours::Files for Guest {
    type File = YoursFile;

    fn open(path: String) -> yours::File {
        let host: right::File = right::open(&path);
        yours::File::new(YoursFile { path: format!("yours:{}", host.path()) })
    }

    fn describe(f: yours::FileBorrow<'_>) -> String {
        let file: &YoursFile = f.get();
        format!("yours has {}", file.path)
    }
}

instances_sdk::export_instances_guest!(Guest);
